//! A bounded fuzz loop over the checkpoint loaders, on stable Rust with no fuzzing crate.
//!
//! A corpus (every file of `tests/fixtures/torch/interop/`, the safetensors files of
//! `tests/data/safetensors/`, and a few minimal synthetic safetensors, zip and pickle inputs) is
//! mutated by a seeded generator (`fuzz_checkpoints/mutate.rs`: byte-level and format-aware
//! mutations). Each input goes to `safetensors_from_bytes` and `load_from_bytes`; what loads is
//! turned into a state dict and loaded into the interop models (`load_state_dict(strict=False)`,
//! then an eval-mode forward). Any panic fails the test, as does a loader holding more than
//! `factor * len + constant` bytes at once (a counting global allocator measures it; the
//! bounds are [`SAFETENSORS_BOUND`] and [`TORCH_LOAD_BOUND`]).
//! A failing input is saved under `target/tmp/fuzz-failures/` with its seed and iteration.
//!
//! Bounds: `FLAMBEAU_FUZZ_SECS` (default 20) and `FLAMBEAU_FUZZ_ITERS` (default 10 million),
//! whichever comes first; `FLAMBEAU_FUZZ_SEED` (default fixed) picks the stream, and
//! `FLAMBEAU_FUZZ_REPRO=FILE` runs one saved input instead. An input that stalls a loader for
//! `FLAMBEAU_FUZZ_STALL_SECS` (default 60) is saved and the process aborted (a hang).
//!
//! Run: `cargo test --release --test fuzz_checkpoints -- --nocapture`

#[path = "fuzz_checkpoints/alloc.rs"]
mod alloc;
#[path = "fuzz_checkpoints/mutate.rs"]
mod mutate;
#[path = "fuzz_checkpoints/zip.rs"]
mod zip;

use flambeau::nn::{self, Forward, Module, StateDict};
use flambeau::serialization::{self, load_from_bytes, safetensors_from_bytes};
use flambeau::{DType, Tensor};
use mutate::Rng;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

/// How many bytes a loader may hold at once: `factor * input length + constant`.
#[derive(Clone, Copy)]
struct Bound {
    factor: usize,
    constant: usize,
}

/// The safetensors reader copies the data once and parses the header in place; a header of
/// tiny tensors costs the most per byte (a tensor's objects for some 50 header bytes).
const SAFETENSORS_BOUND: Bound = Bound {
    factor: 32,
    constant: 1 << 20,
};

/// The unpickler's memo may hand out copies worth 64 bytes per input byte plus 16 MiB (its
/// budget, `pickle/read.rs`), on top of the storages it reads.
const TORCH_LOAD_BOUND: Bound = Bound {
    factor: 96,
    constant: 24 << 20,
};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a valid value")),
        Err(_) => default,
    }
}

fn failures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures")
}

/// The input being run, for the hang watchdog and the allocation-refusal hook.
static IN_FLIGHT: Mutex<(String, Vec<u8>)> = Mutex::new((String::new(), Vec::new()));
static PROGRESS: AtomicU64 = AtomicU64::new(0);
static DONE: AtomicBool = AtomicBool::new(false);

/// Saves `input` under the failures folder and returns the path.
fn save_failure(label: &str, input: &[u8]) -> PathBuf {
    let dir = failures_dir();
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{label}.bin"));
    let _ = std::fs::write(&path, input);
    path
}

fn save_in_flight(why: &str) {
    // `try_lock`: the hook may run while the harness holds the lock (never while a loader does).
    if let Ok(g) = IN_FLIGHT.try_lock() {
        let path = save_failure(&format!("{}-{why}", g.0), &g.1);
        eprintln!("fuzz: {why} on {} (input saved to {})", g.0, path.display());
    }
}

thread_local! {
    /// Whether this thread runs the fuzz loop (the only one whose refusals save an input).
    static FUZZ_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn on_refused_allocation(size: usize) {
    if !FUZZ_THREAD.with(|f| f.get()) {
        return;
    }
    eprintln!("fuzz: refused an allocation of {size} bytes, far past the input's bound");
    save_in_flight("huge-allocation");
}

/// The interop fixtures' architectures (what a fuzzed checkpoint is loaded into).
fn interop_models() -> Vec<(nn::Sequential, Tensor)> {
    let conv = nn::ConvOptions {
        padding: nn::functional::Padding::Explicit(vec![1]),
        ..Default::default()
    };
    let mlp = nn::Sequential::new()
        .add(nn::Linear::new(4, 8))
        .add(nn::ReLU::new())
        .add(nn::Linear::new(8, 3));
    let cnn = nn::Sequential::new()
        .add(nn::Conv2d::with_options(1, 4, 3, conv))
        .add(nn::BatchNorm2d::new(4))
        .add(nn::ReLU::new())
        .add(nn::MaxPool2d::new(2))
        .add(nn::Flatten::new())
        .add(nn::Linear::new(64, 5));
    vec![
        (mlp, Tensor::ones([2, 4])),
        (cnn, Tensor::ones([2, 1, 8, 8])),
    ]
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["tests/fixtures/torch/interop", "tests/data/safetensors"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                dir.contains("interop") || p.extension().is_some_and(|e| e == "safetensors")
            })
            .collect();
        paths.sort();
        for p in paths {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            out.push((name, std::fs::read(&p).unwrap()));
        }
    }
    // Minimal synthetic inputs: an empty safetensors header, one tensor of each dtype, a
    // state dict with an empty and a 0-d tensor, and torch.save archives of tiny pickles.
    out.push(("empty.safetensors".into(), b"\x02\0\0\0\0\0\0\0{}".to_vec()));
    let mut sd = StateDict::new();
    sd.insert("f", Tensor::from_vec(vec![1.5f32, -2.0], [2]));
    sd.insert("d", Tensor::from_vec(vec![0.25f64], ()));
    sd.insert("i", Tensor::from_vec(vec![7i64, -1], [2, 1]));
    sd.insert("b", Tensor::from_vec(vec![true, false, true], [3]));
    sd.insert("e", Tensor::zeros([0, 4]));
    out.push((
        "dtypes.safetensors".into(),
        serialization::safetensors_to_bytes(&sd).unwrap(),
    ));
    let archive = |pkl: &[u8]| {
        zip::join(&[
            (b"archive/data.pkl".to_vec(), pkl.to_vec()),
            (b"archive/byteorder".to_vec(), b"little".to_vec()),
            (b"archive/version".to_vec(), b"3\n".to_vec()),
        ])
    };
    out.push(("empty_dict.pt".into(), archive(b"\x80\x02}q\x00.")));
    out.push((
        "nested.pt".into(),
        archive(b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01]q\x02(K\x01G?\xf8\x00\x00\x00\x00\x00\x00N\x88eX\x01\x00\x00\x00bq\x03h\x02u."),
    ));
    out.push((
        "bare_pickle".into(),
        b"\x80\x02]q\x00(K\x01K\x02e.".to_vec(),
    ));
    // Pickle bombs: a value doubled 40 times by DUP, and by memo gets (Python shares the object;
    // a loader that copies it would need 2^40 of them).
    let mut dup = b"\x80\x02]K\x01a".to_vec();
    dup.extend(b"2\x86".repeat(40));
    dup.push(b'.');
    out.push(("bomb_dup.pt".into(), archive(&dup)));
    let mut memo = b"\x80\x02]q\x00".to_vec();
    memo.extend(b"h\x00h\x00\x86q\x00".repeat(40));
    memo.push(b'.');
    out.push(("bomb_memo.pt".into(), archive(&memo)));
    out
}

#[derive(Default)]
struct Counts {
    safetensors_ok: u64,
    load_ok: u64,
    state_dicts: u64,
    into_model: u64,
    /// Per loader (safetensors, torch.load): the largest peak, and the largest peak per input
    /// byte over inputs of 1 KiB or more.
    peaks: [Peak; 2],
}

#[derive(Default)]
struct Peak {
    bytes: usize,
    per_byte: f64,
}

fn panic_text(e: Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".to_string())
}

/// Runs one loader with its allocations measured: its result, or why the input failed.
fn measured<T>(
    what: &str,
    bound: Bound,
    input: &[u8],
    peak: &mut Peak,
    f: impl FnOnce() -> T,
) -> Result<T, String> {
    let limit = bound.factor * input.len() + bound.constant;
    let (r, usage) = alloc::track(limit, || catch_unwind(AssertUnwindSafe(f)));
    let r = r.map_err(|e| format!("{what} panicked: {}", panic_text(e)))?;
    peak.bytes = peak.bytes.max(usage.peak);
    // The ratio where the constant no longer dominates.
    if input.len() >= 1024 {
        peak.per_byte = peak.per_byte.max(usage.peak as f64 / input.len() as f64);
    }
    if usage.largest_over > 0 || usage.peak > limit {
        return Err(format!(
            "{what} held {} bytes at once (a request of {} went over), more than {} x {} + {}",
            usage.peak.max(limit + 1),
            usage.largest_over,
            bound.factor,
            input.len(),
            bound.constant
        ));
    }
    Ok(r)
}

fn into_models(
    sd: &StateDict,
    models: &[(nn::Sequential, Tensor)],
    c: &mut Counts,
) -> Result<(), String> {
    for (m, x) in models {
        let r = catch_unwind(AssertUnwindSafe(|| {
            if m.load_state_dict(sd, false).is_ok() {
                m.eval();
                let x = if m.parameters().first().map(|p| p.dtype()) == Some(DType::F64) {
                    x.to_dtype(DType::F64)
                } else {
                    x.clone()
                };
                flambeau::no_grad(|| m.forward(&x));
                true
            } else {
                false
            }
        }));
        match r {
            Ok(true) => c.into_model += 1,
            Ok(false) => {}
            Err(e) => {
                return Err(format!(
                    "loading into {} panicked: {}",
                    m.type_name(),
                    panic_text(e)
                ));
            }
        }
    }
    Ok(())
}

/// Runs one input through every loader.
fn run_one(
    input: &[u8],
    models: &[(nn::Sequential, Tensor)],
    c: &mut Counts,
) -> Result<(), String> {
    if let Ok(sd) = measured(
        "safetensors_from_bytes",
        SAFETENSORS_BOUND,
        input,
        &mut c.peaks[0],
        || safetensors_from_bytes(input),
    )? {
        c.safetensors_ok += 1;
        into_models(&sd, models, c)?;
    }
    if let Ok(v) = measured(
        "load_from_bytes",
        TORCH_LOAD_BOUND,
        input,
        &mut c.peaks[1],
        || load_from_bytes(input),
    )? {
        c.load_ok += 1;
        let sd = catch_unwind(AssertUnwindSafe(|| v.to_state_dict()))
            .map_err(|e| format!("to_state_dict panicked: {}", panic_text(e)))?;
        if let Ok(sd) = sd {
            c.state_dicts += 1;
            into_models(&sd, models, c)?;
        }
    }
    Ok(())
}

/// The hang watchdog: aborts (after saving the input) when no input finishes for `stall`.
fn watchdog(stall: Duration) {
    std::thread::spawn(move || {
        let mut last = (PROGRESS.load(Ordering::Relaxed), Instant::now());
        while !DONE.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(200));
            let now = PROGRESS.load(Ordering::Relaxed);
            if now != last.0 {
                last = (now, Instant::now());
            } else if last.1.elapsed() > stall {
                save_in_flight("hang");
                eprintln!("fuzz: an input ran for over {stall:?}; aborting");
                std::process::abort();
            }
        }
    });
}

fn mutated(rng: &mut Rng, corpus: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut input = rng.pick(corpus).1.clone();
    let other = &rng.pick(corpus).1;
    for _ in 0..1 + rng.below(4) {
        match rng.below(10) {
            0..=3 => mutate::bytes(rng, &mut input, other),
            4 | 5 => mutate::safetensors(rng, &mut input),
            6 => mutate::zip_fields(rng, &mut input),
            _ => {
                if !mutate::archive(rng, &mut input, other) {
                    mutate::pickle(rng, &mut input);
                }
            }
        }
    }
    input
}

#[test]
fn fuzz_checkpoint_loaders() {
    let _ = alloc::ON_REFUSE.set(on_refused_allocation);
    FUZZ_THREAD.with(|f| f.set(true));
    let models = interop_models();
    let mut c = Counts::default();
    if let Ok(path) = std::env::var("FLAMBEAU_FUZZ_REPRO") {
        let input = std::fs::read(&path).unwrap();
        let describe = |r: flambeau::Result<String>| r.unwrap_or_else(|e| format!("Err({e})"));
        println!(
            "safetensors_from_bytes: {}\nload_from_bytes: {}",
            describe(safetensors_from_bytes(&input).map(|sd| format!("Ok({:?})", sd.keys()))),
            describe(load_from_bytes(&input).map(|v| format!("Ok({})", v.type_name())))
        );
        if let Err(why) = run_one(&input, &models, &mut c) {
            panic!("{path}: {why}");
        }
        println!(
            "{path}: no failure (peaks {} and {} bytes for {} bytes)",
            c.peaks[0].bytes,
            c.peaks[1].bytes,
            input.len()
        );
        return;
    }
    let secs: f64 = env_or("FLAMBEAU_FUZZ_SECS", 20.0);
    let iters: u64 = env_or("FLAMBEAU_FUZZ_ITERS", 10_000_000);
    let seed: u64 = env_or("FLAMBEAU_FUZZ_SEED", 0x5afe_7e45);
    let stall: f64 = env_or("FLAMBEAU_FUZZ_STALL_SECS", 60.0);
    let corpus = corpus();
    watchdog(Duration::from_secs_f64(stall));
    let start = Instant::now();
    let fail = |label: String, input: &[u8], why: String| -> ! {
        DONE.store(true, Ordering::Relaxed);
        let path = save_failure(&label, input);
        panic!("{label}: {why}\n(input saved to {})", path.display());
    };
    // The corpus itself first: every seed must pass too.
    for (name, input) in &corpus {
        *IN_FLIGHT.lock().unwrap() = (format!("corpus-{name}"), input.clone());
        if let Err(why) = run_one(input, &models, &mut c) {
            fail(format!("corpus-{name}"), input, why);
        }
        PROGRESS.fetch_add(1, Ordering::Relaxed);
    }
    let seeds_accepted = (c.safetensors_ok, c.load_ok);
    // The bombs are run once, as seeds: mutating them mostly spends the time budget on the
    // unpickler's copy budget instead of reaching new code.
    let seeds: Vec<(String, Vec<u8>)> = corpus
        .iter()
        .filter(|(name, _)| !name.starts_with("bomb_"))
        .cloned()
        .collect();
    let mut n = 0u64;
    while n < iters && start.elapsed().as_secs_f64() < secs {
        // Each iteration's input depends on (seed, n) only, so a failure is reproducible.
        let mut rng = Rng::new(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let input = mutated(&mut rng, &seeds);
        let label = format!("seed-{seed:x}-iter-{n}");
        {
            let mut g = IN_FLIGHT.lock().unwrap();
            g.0.clone_from(&label);
            g.1.clone_from(&input);
        }
        if let Err(why) = run_one(&input, &models, &mut c) {
            fail(label, &input, why);
        }
        PROGRESS.fetch_add(1, Ordering::Relaxed);
        n += 1;
    }
    DONE.store(true, Ordering::Relaxed);
    println!(
        "fuzz checkpoints: {n} iterations in {:.1} s (seed {seed:#x}, corpus of {}: {} safetensors and {} torch.save inputs load); \
         mutants accepted: safetensors {}, load {}; seeds and mutants: {} state dicts from load, {} loads into a model; \
         peak allocation of safetensors_from_bytes {} bytes (at most {:.1} per input byte over inputs of 1 KiB or more), \
         of load_from_bytes {} bytes (at most {:.1} per input byte)",
        start.elapsed().as_secs_f64(),
        corpus.len(),
        seeds_accepted.0,
        seeds_accepted.1,
        c.safetensors_ok - seeds_accepted.0,
        c.load_ok - seeds_accepted.1,
        c.state_dicts,
        c.into_model,
        c.peaks[0].bytes,
        c.peaks[0].per_byte,
        c.peaks[1].bytes,
        c.peaks[1].per_byte
    );
    // (`FLAMBEAU_FUZZ_SECS=0` or `FLAMBEAU_FUZZ_ITERS=0` runs the corpus only.)
    assert!(n > 0 || secs <= 0.0 || iters == 0, "no iteration ran");
}

#[test]
fn zip_helpers_round_trip_the_corpus_archives() {
    assert_eq!(zip::crc32(b"123456789"), 0xCBF4_3926);
    let mut archives = 0;
    for (name, bytes) in corpus() {
        if let Some(records) = zip::split(&bytes) {
            archives += 1;
            let joined = zip::join(&records);
            assert_eq!(zip::split(&joined).unwrap(), records, "{name}");
        }
    }
    // mlp.pt, cnn.pt, mlp_f64.pt, cnn_f64.pt, views.pt and the synthetic ones.
    assert!(archives >= 7, "{archives} archives");
}

#[test]
fn counting_allocator_measures_and_refuses() {
    let ((), u) = alloc::track(1 << 20, || drop(std::hint::black_box(vec![0u8; 1000])));
    assert!(u.peak >= 1000 && u.largest_over == 0, "{u:?}");
    let ((), u) = alloc::track(100, || drop(std::hint::black_box(vec![0u8; 1000])));
    assert_eq!(u.largest_over, 1000);
    let (r, _) = alloc::track(0, || Vec::<u8>::new().try_reserve(1 << 40).is_err());
    assert!(r, "a request far past the limit is refused");
}
