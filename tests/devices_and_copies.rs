//! Devices as PyTorch prints and parses them, `to(device)` on tensors and modules, the
//! `torch.cuda` queries, and deep copies of modules and state dicts (issue 10).

use flambeau::nn::{Dropout, Linear, Module, Parameter, init};
use flambeau::{Device, Tensor, cuda, manual_seed, tensor};

#[test]
fn devices_print_and_parse_as_pytorch() {
    assert_eq!(Device::Cpu.to_string(), "cpu");
    assert_eq!(format!("{:?}", Device::Cpu), "device(type='cpu')");
    assert_eq!("cpu".parse::<Device>().unwrap(), Device::Cpu);
    assert_eq!("cpu:0".parse::<Device>().unwrap(), Device::Cpu);
    let err = |s: &str| s.parse::<Device>().unwrap_err().to_string();
    // torch.device('foo'), torch.device('cpu:x') and torch.device('cuda:') in PyTorch 2.15.
    assert_eq!(
        err("foo"),
        "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, \
         maia, xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start of \
         device string: foo"
    );
    assert_eq!(err("cpu:x"), "Invalid device string: 'cpu:x'");
    assert_eq!(err("cuda:"), "Invalid device string: 'cuda:'");
    assert_eq!(err("cuda"), "Torch not compiled with CUDA enabled");
    assert_eq!(err("cuda:1"), "Torch not compiled with CUDA enabled");
    assert!(err("mps").contains("no backend for device type 'mps'"));
    assert!(err("cpu:1").contains("got 1"));
    assert!(!cuda::is_available());
    assert_eq!(cuda::device_count(), 0);
}

#[test]
fn to_device_returns_the_tensor_itself_on_its_device() {
    let t = tensor!([1.0, 2.0]).requires_grad_(true);
    assert!(t.to_device(Device::Cpu).is_same(&t));
    assert!(t.cpu().is_same(&t));
    let mut m = Linear::new(3, 2);
    let w = m.weight.clone();
    m.to_device(Device::Cpu);
    assert!(m.weight.is_same(&w), "parameters stay the same tensors");
}

#[derive(Module, Clone)]
struct Tied {
    embed: Parameter,
    head: Parameter,
    drop: Dropout,
}

#[test]
fn deep_clone_copies_values_flags_grads_and_keeps_ties() {
    manual_seed(0);
    let w = Parameter::new(Tensor::randn([3, 2]));
    let m = Tied {
        embed: w.clone(),
        head: w.clone(),
        drop: Dropout::new(0.5),
    };
    (m.embed.sum() * 2.0).backward();
    m.eval();
    let c = m.deep_clone();
    // New tensors with the same values, flags and gradients.
    assert!(!c.embed.is_same(&m.embed));
    assert_eq!(c.embed.to_vec::<f32>(), m.embed.to_vec::<f32>());
    assert!(c.embed.requires_grad() && c.embed.is_leaf());
    assert_eq!(c.embed.grad().unwrap().to_vec::<f32>(), vec![2.0; 6]);
    // The tie survives the copy, as copy.deepcopy's memo keeps it.
    assert!(c.embed.is_same(&c.head));
    // The training mode is copied and then independent.
    assert!(!c.drop.is_training());
    m.train(true);
    assert!(!c.drop.is_training());
    // Changing the original leaves the copy alone; a plain clone follows it.
    let shared = m.clone();
    init::constant_(&m.embed, 7.0);
    assert!(shared.head.eq(7.0).all_true());
    assert!(!c.head.eq(7.0).any_true());
    assert_eq!(c.embed.grad().unwrap().to_vec::<f32>(), vec![2.0; 6]);
}

#[test]
fn state_dict_deep_clone_snapshots_and_restores() {
    manual_seed(1);
    let m = Linear::new(4, 2);
    let before = m.weight.to_vec::<f32>();
    let snap = m.state_dict().deep_clone();
    assert_eq!(snap.keys(), ["weight", "bias"]);
    init::constant_(&m.weight, 0.0);
    assert_eq!(snap.get("weight").unwrap().to_vec::<f32>(), before);
    assert!(!snap.get("weight").unwrap().requires_grad());
    m.load_state_dict(&snap, true).unwrap();
    assert_eq!(m.weight.to_vec::<f32>(), before);
}
