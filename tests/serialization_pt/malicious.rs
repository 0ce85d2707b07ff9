//! Pickles that would run code are refused with torch.load(weights_only=True)'s words, and
//! pickles that build what Flambeau does not represent are refused by name.

use super::*;

/// The first three sections of a legacy file (magic number, protocol version, sys_info), to
/// put a hand-written object pickle behind.
fn legacy_with(object_pickle: &[u8]) -> Vec<u8> {
    let legacy = std::fs::read(interop_path("legacy.pt")).unwrap();
    let mut bytes = legacy[..137].to_vec();
    assert_eq!(
        &legacy[137..139],
        b"\x80\x02",
        "the object pickle starts at 137"
    );
    bytes.extend_from_slice(object_pickle);
    bytes.extend_from_slice(b"\x80\x02]q\x00.");
    bytes
}

fn refusal(bytes: &[u8]) -> String {
    match no_panic(|| load_from_bytes(bytes)) {
        Ok(Err(flambeau::Error::Format(msg))) => msg,
        Ok(Err(other)) => panic!("not a format error: {other}"),
        Ok(Ok(v)) => panic!("loaded: {v:?}"),
        Err(_) => panic!("panicked"),
    }
}

#[test]
fn code_calling_files_are_refused_in_torchs_words() {
    let fx = data_json();
    let torch_says = |name: &str| fx["refusals"][name].as_str().unwrap().to_string();
    for (name, gist) in [
        (
            "os_system",
            "Trying to load unsupported GLOBAL posix.system whose module posix is blocked.",
        ),
        (
            "posix_system",
            "Trying to load unsupported GLOBAL posix.system whose module posix is blocked.",
        ),
        (
            "global_eval",
            "Unsupported global: GLOBAL eval was not an allowed global by default.",
        ),
        ("inst", "Unsupported operand 105"),
    ] {
        assert!(
            torch_says(name).contains(gist),
            "{name}: torch says {}",
            torch_says(name)
        );
        let msg = load(data_path(&format!("malicious_{name}.pt")))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("Weights only load failed"), "{name}: {msg}");
        assert!(msg.contains(gist), "{name}: {msg}");
    }
    // torch's unpickler stops at the protocol-4 string opcode; Flambeau reads it and refuses
    // the global itself.
    let msg = load(data_path("malicious_stack_global_eval.pt"))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("Unsupported global: GLOBAL eval was not an allowed global"),
        "{msg}"
    );
}

#[test]
fn globals_outside_the_allow_list_are_refused_by_name() {
    for (module, name, gist) in [
        ("builtins", "exec", "GLOBAL exec was not an allowed global"),
        (
            "__builtin__",
            "eval",
            "GLOBAL eval was not an allowed global",
        ),
        (
            "subprocess",
            "Popen",
            "GLOBAL subprocess.Popen was not an allowed global",
        ),
        (
            "nt",
            "system",
            "GLOBAL nt.system whose module nt is blocked",
        ),
        ("sys", "exit", "GLOBAL sys.exit whose module sys is blocked"),
        (
            "os",
            "system",
            "GLOBAL os.system whose module os is blocked",
        ),
    ] {
        let mut p = b"\x80\x02c".to_vec();
        p.extend_from_slice(format!("{module}\n{name}\n").as_bytes());
        p.extend_from_slice(b"X\x02\x00\x00\x00ls\x85R.");
        let msg = refusal(&legacy_with(&p));
        assert!(msg.contains(gist), "{module}.{name}: {msg}");
        // The same through STACK_GLOBAL.
        let mut p = b"\x80\x04".to_vec();
        for s in [module, name] {
            p.push(0x8c);
            p.push(s.len() as u8);
            p.extend_from_slice(s.as_bytes());
        }
        p.extend_from_slice(b"\x93)R.");
        let msg = refusal(&legacy_with(&p));
        assert!(msg.contains(gist), "STACK_GLOBAL {module}.{name}: {msg}");
    }
}

#[test]
fn code_building_opcodes_are_refused_by_name() {
    for (pickle, gist) in [
        (
            &b"\x80\x02(cos\nsystem\nX\x02\x00\x00\x00lso."[..],
            "blocked",
        ),
        (
            &b"\x80\x02(X\x02\x00\x00\x00lso."[..],
            "Unsupported operand 111 (OBJ)",
        ),
        (
            &b"\x80\x02(ios\nsystem\n."[..],
            "Unsupported operand 105 (INST)",
        ),
        (&b"\x80\x02\x82\x01."[..], "Unsupported operand 130 (EXT1)"),
        (&b"\x80\x02P1\n."[..], "Unsupported operand 80 (PERSID)"),
        (&b"\x80\x02\x8f."[..], "(EMPTY_SET)"),
    ] {
        let msg = refusal(&legacy_with(pickle));
        assert!(msg.contains(gist), "{pickle:?}: {msg}");
    }
}

#[test]
fn a_counter_reads_as_a_dict() {
    // What torch.save writes for MultiStepLR's `milestones`, Counter({30: 1, 80: 2}).
    let pickle = b"\x80\x02}q\x00X\x01\x00\x00\x00mq\x01ccollections\nCounter\nq\x02}q\x03(K\x1eK\x01KPK\x02u\x85q\x04Rq\x05s.";
    let v = no_panic(|| load_from_bytes(&legacy_with(pickle)))
        .unwrap()
        .unwrap();
    let counts = v.get("m").and_then(Value::as_dict).unwrap();
    let pairs: Vec<(i64, i64)> = counts
        .iter()
        .map(|(k, c)| (k.as_int().unwrap(), c.as_int().unwrap()))
        .collect();
    assert_eq!(pairs, [(30, 1), (80, 2)]);
}

#[test]
fn allowed_callables_are_only_called_as_data_builders() {
    for (pickle, gist) in [
        // REDUCE on something that is not a callable.
        (
            &b"\x80\x02X\x01\x00\x00\x00f)R."[..],
            "Trying to call reduce for unrecognized function",
        ),
        // BUILD on a plain dict.
        (
            &b"\x80\x02})b."[..],
            "Can only build Tensor, Parameter, OrderedDict",
        ),
        // NEWOBJ of OrderedDict.
        (
            &b"\x80\x02ccollections\nOrderedDict\n)\x81."[..],
            "Can only create new object for nn.Parameter",
        ),
        // A persistent id that is not a storage.
        (
            &b"\x80\x02X\x03\x00\x00\x00abc\x85Q."[..],
            "Only persistent_load of storage is allowed",
        ),
        // _rebuild_tensor_v2 over a string.
        (
            &b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(X\x01\x00\x00\x00sK\x00)))\x89}tR."[..],
            "storage is a str",
        ),
        // APPEND to a dict, SETITEM on a list.
        (&b"\x80\x02}K\x01a."[..], "Can only append to lists"),
        (&b"\x80\x02]K\x01K\x02s."[..], "Can only SETITEM for dict"),
        // A set: torch allows builtins.set, Flambeau's Value has none.
        (
            &b"\x80\x02c__builtin__\nset\n]\x85R."[..],
            "Value has no set",
        ),
        // A dtype object.
        (&b"\x80\x02ctorch\nfloat16\n."[..], "GLOBAL torch.float16"),
    ] {
        let msg = refusal(&legacy_with(pickle));
        assert!(msg.contains(gist), "{pickle:?}: {msg}");
    }
}

#[test]
fn unsupported_storage_types_are_named() {
    let msg = load(data_path("half.pt")).unwrap_err().to_string();
    assert!(
        msg.contains("torch.HalfStorage: Flambeau reads float32, float64, int64 and bool"),
        "{msg}"
    );
}

#[test]
fn protocol_4_and_5_data_opcodes_build_data() {
    // FRAME, SHORT_BINUNICODE, MEMOIZE, BINUNICODE8, SHORT_BINBYTES, BINBYTES, LONG4, EMPTY_LIST +
    // APPENDS, BINGET of a memoized string, TUPLE3, BINFLOAT, bytearray.
    let mut p = b"\x80\x05\x95\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
    p.extend_from_slice(b"]\x94(\x8c\x02ab\x94");
    p.extend_from_slice(b"\x8d\x03\x00\x00\x00\x00\x00\x00\x00xyz");
    p.extend_from_slice(b"C\x02\x00\x01B\x01\x00\x00\x00\xff");
    p.extend_from_slice(b"\x8b\x02\x00\x00\x00\x00\x80"); // LONG4 -32768
    p.extend_from_slice(b"h\x01"); // memo 1 is 'ab'
    p.extend_from_slice(b"K\x01K\x02G\x3f\xf8\x00\x00\x00\x00\x00\x00\x87");
    p.extend_from_slice(b"c__builtin__\nbytearray\nC\x01z\x85R");
    p.extend_from_slice(b"e.");
    let v = load_from_bytes(&legacy_with(&p)).unwrap();
    let items = v.as_seq().unwrap();
    assert_eq!(items.len(), 8, "{v:?}");
    assert_eq!(items[0].as_str(), Some("ab"));
    assert_eq!(items[1].as_str(), Some("xyz"));
    assert!(matches!(&items[2], Value::Bytes(b) if b == &[0, 1]));
    assert!(matches!(&items[3], Value::Bytes(b) if b == &[0xff]));
    assert_eq!(items[4].as_int(), Some(-32768));
    assert_eq!(items[5].as_str(), Some("ab"));
    assert!(matches!(&items[6], Value::Tuple(t) if t.len() == 3 && t[2].as_float() == Some(1.5)));
    assert!(matches!(&items[7], Value::Bytes(b) if b == b"z"));
}

#[test]
fn dict_keys_follow_pythons_equality() {
    // {1: 'a', 1.0: 'b', True: 'c'} is {1: 'c'} in Python.
    let p = b"\x80\x02}(K\x01X\x01\x00\x00\x00aG\x3f\xf0\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00b\x88X\x01\x00\x00\x00cu.";
    let v = load_from_bytes(&legacy_with(p)).unwrap();
    let d = v.as_dict().unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].0.as_int(), Some(1));
    assert_eq!(d[0].1.as_str(), Some("c"));
    // A list as a key is unhashable.
    let p = b"\x80\x02}]K\x01s.";
    assert!(refusal(&legacy_with(p)).contains("unhashable"));
}

#[test]
fn integers_beyond_64_bits_are_refused() {
    // LONG1 of 2**64.
    let p = b"\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01.";
    assert!(refusal(&legacy_with(p)).contains("does not fit in 64 bits"));
}
