//! `torch.nn` and `torch.optim` behaviour: names from `#[derive(Module)]`, state dicts, reprs,
//! train/eval, dtype conversion, initialisers, dropout, optimizer validation and state, and the
//! schedulers without fixtures. Expected values come from PyTorch 2.15.

mod common;

use common::panic_message;
use flambeau::nn::functional as F;
use flambeau::nn::{
    self, Buffer, Dropout, Forward, IncompatibleKeys, LayerNorm, Linear, Module, Parameter, ReLU,
    Sequential, StateDict, TrainingFlag, init,
};
use flambeau::optim::lr_scheduler::{
    AnnealStrategy, CosineAnnealingLR, ExponentialLR, LRScheduler, LambdaLR, MultiStepLR,
    OneCycleLR, OneCycleOptions, ReduceLROnPlateau,
};
use flambeau::optim::{
    Adagrad, AdagradOptions, Adam, AdamOptions, Optimizer, RMSprop, RMSpropOptions, SGD, SgdOptions,
};
use flambeau::{DType, Tensor, manual_seed, sequential, tensor};
use std::sync::Mutex;

/// Every test here draws from the default generator (module initialisation), and some seed it:
/// they run one at a time so that the seeded ones see PyTorch's streams.
static RNG: Mutex<()> = Mutex::new(());

fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(|e| e.into_inner())
}

fn names<M: Module>(m: &M) -> Vec<String> {
    m.named_parameters().into_iter().map(|(n, _)| n).collect()
}

#[derive(Module)]
struct Block {
    fc: Linear,
    scale: Parameter,
    norm: Option<LayerNorm>,
    running: Buffer,
}

#[derive(Module)]
struct Net {
    embed: Parameter,
    blocks: Vec<Block>,
    head: Option<Linear>,
    skipped: Option<Linear>,
    body: Sequential,
    hidden: usize,
    rate: f64,
    #[module(skip)]
    _note: std::collections::HashMap<String, u8>,
}

fn block(with_norm: bool) -> Block {
    Block {
        fc: Linear::new(2, 2),
        scale: Parameter::new(Tensor::ones([2])),
        norm: with_norm.then(|| LayerNorm::new(&[2])),
        running: Buffer::new(Tensor::zeros([2])),
    }
}

fn net() -> Net {
    Net {
        embed: Parameter::new(Tensor::zeros([3, 2])),
        blocks: vec![block(true), block(false)],
        head: Some(Linear::new(2, 1)),
        skipped: None,
        body: sequential![Linear::new(1, 4), ReLU::new(), Linear::new(4, 1)],
        hidden: 2,
        rate: 0.1,
        _note: Default::default(),
    }
}

#[test]
fn derive_names_follow_pytorch() {
    let _g = rng_lock();
    let n = net();
    assert_eq!(
        names(&n),
        [
            "embed",
            "blocks.0.scale",
            "blocks.0.fc.weight",
            "blocks.0.fc.bias",
            "blocks.0.norm.weight",
            "blocks.0.norm.bias",
            "blocks.1.scale",
            "blocks.1.fc.weight",
            "blocks.1.fc.bias",
            "head.weight",
            "head.bias",
            "body.0.weight",
            "body.0.bias",
            "body.2.weight",
            "body.2.bias",
        ]
    );
    // state_dict: own parameters, then own buffers, then children, module by module.
    assert_eq!(
        n.state_dict().keys(),
        [
            "embed",
            "blocks.0.scale",
            "blocks.0.running",
            "blocks.0.fc.weight",
            "blocks.0.fc.bias",
            "blocks.0.norm.weight",
            "blocks.0.norm.bias",
            "blocks.1.scale",
            "blocks.1.running",
            "blocks.1.fc.weight",
            "blocks.1.fc.bias",
            "head.weight",
            "head.bias",
            "body.0.weight",
            "body.0.bias",
            "body.2.weight",
            "body.2.bias",
        ]
    );
    let modules: Vec<String> = n.named_modules().into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        modules,
        [
            "",
            "blocks",
            "blocks.0",
            "blocks.0.fc",
            "blocks.0.norm",
            "blocks.1",
            "blocks.1.fc",
            "head",
            "body",
            "body.0",
            "body.1",
            "body.2"
        ]
    );
    let children: Vec<String> = n.named_children().into_iter().map(|(k, _)| k).collect();
    assert_eq!(children, ["blocks", "head", "body"]);
    assert_eq!(n.buffers().len(), 2);
    assert_eq!(
        n.num_parameters(),
        6 + (2 + 4 + 2 + 2 + 2) + (2 + 4 + 2) + 3 + (4 + 4 + 4 + 1)
    );
}

#[derive(Module)]
struct Tied {
    a: Parameter,
    b: Parameter,
}

#[test]
fn shared_parameters_are_listed_once() {
    let _g = rng_lock();
    let p = Parameter::new(Tensor::ones([2]));
    let t = Tied { a: p.clone(), b: p };
    assert_eq!(names(&t), ["a"]);
    assert_eq!(t.num_parameters(), 2);
    // the state dict, as PyTorch's, keeps both names
    assert_eq!(t.state_dict().keys(), ["a", "b"]);
}

#[test]
fn reprs_match_pytorch() {
    let _g = rng_lock();
    let s = sequential![Linear::new(4, 8), ReLU::new(), Linear::new(8, 3)];
    assert_eq!(
        s.repr(),
        "Sequential(\n  (0): Linear(in_features=4, out_features=8, bias=True)\n  (1): ReLU()\n  (2): Linear(in_features=8, out_features=3, bias=True)\n)"
    );
    let list = vec![Linear::new(2, 2), Linear::new(2, 2), Linear::new(2, 3)];
    assert_eq!(
        list.repr(),
        "ModuleList(\n  (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)\n  (2): Linear(in_features=2, out_features=3, bias=True)\n)"
    );
    #[derive(Module)]
    struct M {
        fc: Linear,
        layers: Vec<Linear>,
        seq: Sequential,
    }
    let m = M {
        fc: Linear::new(2, 2),
        layers: vec![Linear::new(2, 2)],
        seq: sequential![Linear::new(1, 1), ReLU::new()],
    };
    assert_eq!(
        format!("{m}"),
        "M(\n  (fc): Linear(in_features=2, out_features=2, bias=True)\n  (layers): ModuleList(\n    (0): Linear(in_features=2, out_features=2, bias=True)\n  )\n  (seq): Sequential(\n    (0): Linear(in_features=1, out_features=1, bias=True)\n    (1): ReLU()\n  )\n)"
    );
    let cases: Vec<(String, &str)> = vec![
        (
            nn::Flatten::new().repr(),
            "Flatten(start_dim=1, end_dim=-1)",
        ),
        (
            nn::LeakyReLU::new().repr(),
            "LeakyReLU(negative_slope=0.01)",
        ),
        (nn::GELU::new().repr(), "GELU(approximate='none')"),
        (
            nn::GELU::with_approximate("tanh").repr(),
            "GELU(approximate='tanh')",
        ),
        (nn::Softmax::new(-1).repr(), "Softmax(dim=-1)"),
        (nn::LogSoftmax::new(1).repr(), "LogSoftmax(dim=1)"),
        (
            nn::Softplus::new().repr(),
            "Softplus(beta=1.0, threshold=20.0)",
        ),
        (
            nn::Dropout::new(0.5).repr(),
            "Dropout(p=0.5, inplace=False)",
        ),
        (
            nn::Dropout::new(0.25).repr(),
            "Dropout(p=0.25, inplace=False)",
        ),
        (nn::MSELoss::new().repr(), "MSELoss()"),
        (nn::CrossEntropyLoss::new().repr(), "CrossEntropyLoss()"),
        (nn::Embedding::new(10, 4).repr(), "Embedding(10, 4)"),
        (
            LayerNorm::with_options(&[3, 4], 1e-3, true).repr(),
            "LayerNorm((3, 4), eps=0.001, elementwise_affine=True, bias=True)",
        ),
        (nn::Identity::new().repr(), "Identity()"),
        (nn::SiLU::new().repr(), "SiLU()"),
        (nn::Sigmoid::new().repr(), "Sigmoid()"),
        (nn::Tanh::new().repr(), "Tanh()"),
        (
            Linear::with_bias(2, 3, false).repr(),
            "Linear(in_features=2, out_features=3, bias=False)",
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
}

#[test]
fn state_dict_round_trip() {
    let _g = rng_lock();
    let a = net();
    let b = net();
    assert!(!a.blocks[0].fc.weight.equal(&b.blocks[0].fc.weight));
    let keys = b.load_state_dict(&a.state_dict(), true).unwrap();
    assert_eq!(keys, IncompatibleKeys::default());
    for ((na, pa), (nb, pb)) in a.named_parameters().iter().zip(b.named_parameters()) {
        assert_eq!(*na, nb);
        assert!(pa.equal(&pb), "{na}");
    }
    // loading copies values: the parameters stay the same tensors (an optimizer keeps working)
    let w = b.head.as_ref().unwrap().weight.clone();
    b.load_state_dict(&net().state_dict(), true).unwrap();
    assert!(w.is_same(&b.head.as_ref().unwrap().weight));
    assert!(w.is_leaf() && w.requires_grad());
}

#[test]
fn load_state_dict_errors_use_pytorchs_wording() {
    let _g = rng_lock();
    let m = Linear::new(2, 2);
    let mut sd = m.state_dict();
    sd.insert("weight", Tensor::zeros([3, 2]));
    sd.insert("extra", Tensor::zeros([1]));
    sd.remove("bias");
    let before = m.weight.to_vec::<f32>();
    let err = m.load_state_dict(&sd, true).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: \"bias\". \n\tUnexpected key(s) in state_dict: \"extra\". \n\tsize mismatch for weight: copying a param with shape torch.Size([3, 2]) from checkpoint, the shape in current model is torch.Size([2, 2])."
    );
    assert_eq!(
        m.weight.to_vec::<f32>(),
        before,
        "nothing is modified on error"
    );
    // non-strict: missing and unexpected keys are reported, not refused
    let mut sd = StateDict::new();
    sd.insert("weight", Tensor::zeros([2, 2]));
    sd.insert("extra", Tensor::zeros([1]));
    let keys = m.load_state_dict(&sd, false).unwrap();
    assert_eq!(keys.missing_keys, ["bias"]);
    assert_eq!(keys.unexpected_keys, ["extra"]);
    assert_eq!(m.weight.to_vec::<f32>(), vec![0.0; 4]);
    // a shape mismatch is an error even when not strict
    let mut sd = StateDict::new();
    sd.insert("weight", Tensor::zeros([1, 2]));
    assert!(m.load_state_dict(&sd, false).is_err());
}

#[test]
fn train_and_eval_reach_every_module() {
    let _g = rng_lock();
    #[derive(Module)]
    struct WithDropout {
        fc: Linear,
        drop: Dropout,
        inner: Sequential,
    }
    let m = WithDropout {
        fc: Linear::new(2, 2),
        drop: Dropout::new(0.5),
        inner: sequential![Dropout::new(0.1)],
    };
    assert!(m.is_training());
    m.eval();
    assert!(!m.is_training() && !m.drop.training.get() && !m.inner.is_training());
    let x = Tensor::ones([8]);
    assert!(
        m.drop.forward(&x).equal(&x),
        "dropout is the identity in eval mode"
    );
    m.train(true);
    assert!(m.drop.training.get() && m.inner.is_training());
    // a module's own flag
    #[derive(Module)]
    struct Own {
        training: TrainingFlag,
    }
    let o = Own {
        training: TrainingFlag::new(),
    };
    o.eval();
    assert!(!o.is_training());
}

#[test]
fn dropout_masks_match_pytorch() {
    let _g = rng_lock();
    manual_seed(0);
    let y = Dropout::new(0.3).forward(&Tensor::ones([20]));
    let k = 1.0f32 / 0.7;
    let keep = [0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0];
    let want: Vec<f32> = keep.iter().map(|&b| if b == 1 { k } else { 0.0 }).collect();
    assert_eq!(y.to_vec::<f32>(), want);
    manual_seed(0);
    let y = F::dropout(&Tensor::arange_dtype(0, 8, 1, DType::F64), 0.5, true);
    assert_eq!(
        y.to_vec::<f64>(),
        vec![0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 12.0, 14.0]
    );
    assert_eq!(
        panic_message(|| {
            Dropout::new(1.5);
        }),
        "dropout probability has to be between 0 and 1, but got 1.5"
    );
}

#[test]
fn to_dtype_converts_and_keeps_sharing() {
    let _g = rng_lock();
    let p = Parameter::new(Tensor::ones([2]));
    let mut t = Tied { a: p.clone(), b: p };
    t.to_dtype(DType::F64);
    assert_eq!(t.a.dtype(), DType::F64);
    assert!(t.a.is_same(&t.b), "a shared parameter stays shared");
    assert!(t.a.requires_grad() && t.a.is_leaf());
    let mut m = net();
    m.double();
    assert!(m.parameters().iter().all(|p| p.dtype() == DType::F64));
    assert!(m.buffers().iter().all(|b| b.dtype() == DType::F64));
    let y = m.body.forward(&Tensor::ones_dtype([3, 1], DType::F64));
    assert_eq!(y.dtype(), DType::F64);
}

#[test]
fn zero_grad_sets_none() {
    let _g = rng_lock();
    let m = Linear::new(2, 1);
    m.forward(&Tensor::ones([3, 2])).sum().backward();
    assert!(m.weight.grad().is_some());
    m.zero_grad();
    assert!(m.weight.grad().is_none() && m.bias.as_ref().unwrap().grad().is_none());
    let mut opt = SGD::new(m.parameters(), 0.1);
    m.forward(&Tensor::ones([3, 2])).sum().backward();
    opt.zero_grad();
    assert!(m.weight.grad().is_none());
}

fn assert_close(got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(*g, *w as f32, "got {got:?}\nwant {want:?}");
    }
}

#[test]
fn initialisers_match_pytorch() {
    let _g = rng_lock();
    let w = Tensor::empty([3, 4]);
    manual_seed(0);
    init::xavier_uniform_(&w, 1.0);
    assert_close(
        &w.to_vec::<f32>(),
        &[
            -0.006931448820978403,
            0.4966502785682678,
            -0.7619917392730713,
            -0.681347131729126,
            -0.3565836548805237,
            0.24826547503471375,
            -0.01834344118833542,
            0.7340730428695679,
            -0.08216102421283722,
            0.24498362839221954,
            -0.27979493141174316,
            -0.18198418617248535,
        ],
    );
    manual_seed(0);
    init::xavier_normal_(&w, 2.0);
    assert_close(
        &w.to_vec::<f32>(),
        &[
            1.6473941802978516,
            -0.3136886954307556,
            -2.329223871231079,
            0.6076785922050476,
            -1.1594032049179077,
            -1.4951614141464233,
            0.4311959147453308,
            0.8958878517150879,
            -0.7689186930656433,
            -0.4311923682689667,
            -0.6378300189971924,
            0.19460518658161163,
        ],
    );
    manual_seed(0);
    init::kaiming_normal_(&w, 0.0, "fan_out", "relu");
    assert_close(
        &w.to_vec::<f32>(),
        &[
            1.2582180500030518,
            -0.23958370089530945,
            -1.7789740562438965,
            0.4641222059726715,
            -0.8855087757110596,
            -1.1419483423233032,
            0.32933130860328674,
            0.6842456459999084,
            -0.5872713327407837,
            -0.32932859659194946,
            -0.48715072870254517,
            0.14863216876983643,
        ],
    );
    manual_seed(0);
    init::kaiming_uniform_(&w, 0.0, "fan_in", "leaky_relu");
    assert_close(
        &w.to_vec::<f32>(),
        &[
            -0.009169445373117924,
            0.657006561756134,
            -1.0080204010009766,
            -0.9013375639915466,
            -0.4717158377170563,
            0.3284243643283844,
            -0.024266092106699944,
            0.9710873365402222,
            -0.10868881642818451,
            0.3240828812122345,
            -0.3701339364051819,
            -0.24074245989322662,
        ],
    );
    // p > 0.3: normal draws with rejection
    manual_seed(0);
    let t = Tensor::empty([20]);
    init::trunc_normal_(&t, 0.5, 1.0, -1.0, 1.5);
    let want = [
        -0.6258398294448853,
        -0.652360200881958,
        0.24942141771316528,
        0.0661211907863617,
        1.098839521408081,
        0.049670249223709106,
        0.15863960981369019,
        -0.0553584098815918,
        0.9680963754653931,
        0.342287540435791,
        1.0073344707489014,
        0.7660493850708008,
        -0.8253259658813477,
        0.6885535717010498,
        1.446298360824585,
        -0.34367674589157104,
        1.4318265914916992,
        0.30616289377212524,
        0.9455121755599976,
        0.5537369251251221,
    ];
    assert_close(&t.to_vec::<f32>(), &want);
    // p <= 0.3: uniform proposals with rejection
    manual_seed(0);
    let t = Tensor::empty([12]);
    init::trunc_normal_(&t, 0.0, 1.0, 2.0, 3.0);
    assert_close(
        &t.to_vec::<f32>(),
        &[
            2.4962565898895264,
            2.2629613876342773,
            2.088477373123169,
            2.132030487060547,
            2.1852309703826904,
            2.373417377471924,
            2.490093469619751,
            2.9320003986358643,
            2.175910234451294,
            2.269833564758301,
            2.348893404006958,
            2.031719446182251,
        ],
    );
    assert_eq!(init::calculate_gain("leaky_relu", None), 1.4141428569978354);
    assert_eq!(
        init::calculate_gain("leaky_relu", Some(0.2)),
        1.3867504905630728
    );
    assert_eq!(init::calculate_gain("selu", None), 0.75);
}

#[test]
fn optimizer_hyperparameters_are_validated_with_pytorchs_messages() {
    let _g = rng_lock();
    let p = || vec![Tensor::zeros([1]).requires_grad_(true)];
    type Case = (Box<dyn FnOnce()>, &'static str);
    let cases: Vec<Case> = vec![
        (
            Box::new(move || drop(SGD::new(p(), -1.0))),
            "Invalid learning rate: -1.0",
        ),
        (
            Box::new(move || drop(SGD::new(p(), 0.1).momentum(-0.5))),
            "Invalid momentum value: -0.5",
        ),
        (
            Box::new(move || drop(SGD::new(p(), 0.1).nesterov(true))),
            "Nesterov momentum requires a momentum and zero dampening",
        ),
        (
            Box::new(move || drop(SGD::new(p(), 0.1).weight_decay(-1e-3))),
            "Invalid weight_decay value: -0.001",
        ),
        (
            Box::new(move || drop(Adam::new(p(), 0.1).betas(1.0, 0.999))),
            "Invalid beta parameter at index 0: 1.0",
        ),
        (
            Box::new(move || drop(Adam::new(p(), 0.1).betas(0.9, -0.1))),
            "Invalid beta parameter at index 1: -0.1",
        ),
        (
            Box::new(move || drop(Adam::new(p(), 0.1).eps(-1e-8))),
            "Invalid epsilon value: -1e-08",
        ),
        (
            Box::new(move || {
                drop(RMSprop::with_options(
                    p(),
                    RMSpropOptions {
                        alpha: -0.5,
                        ..Default::default()
                    },
                ))
            }),
            "Invalid alpha value: -0.5",
        ),
        (
            Box::new(move || {
                drop(Adagrad::with_options(
                    p(),
                    AdagradOptions {
                        lr_decay: -0.5,
                        ..Default::default()
                    },
                ))
            }),
            "Invalid lr_decay value: -0.5",
        ),
        (
            Box::new(move || {
                drop(Adagrad::with_options(
                    p(),
                    AdagradOptions {
                        initial_accumulator_value: -1.0,
                        ..Default::default()
                    },
                ))
            }),
            "Invalid initial_accumulator_value value: -1.0",
        ),
        (
            Box::new(|| drop(SGD::new(Vec::<Tensor>::new(), 0.1))),
            "optimizer got an empty parameter list",
        ),
    ];
    for (f, msg) in cases {
        assert_eq!(panic_message(f), msg);
    }
}

#[test]
fn param_groups_have_their_own_options() {
    let _g = rng_lock();
    let a = Tensor::ones([1]).requires_grad_(true);
    let b = Tensor::ones([1]).requires_grad_(true);
    let mut opt = SGD::new([&a], 0.1);
    opt.add_param_group(
        [&b],
        SgdOptions {
            lr: 0.5,
            ..opt.defaults().clone()
        },
    );
    assert_eq!(opt.num_groups(), 2);
    a.set_grad(Some(tensor!([1.0])));
    b.set_grad(Some(tensor!([1.0])));
    opt.step();
    assert_eq!(a.item::<f32>(), 0.9);
    assert_eq!(b.item::<f32>(), 0.5);
    assert_eq!(
        panic_message(|| opt.add_param_group([&a], SgdOptions::new(0.1))),
        "some parameters appear in more than one parameter group"
    );
    // a parameter without a gradient is left alone
    a.set_grad(None);
    opt.step();
    assert_eq!(a.item::<f32>(), 0.9);
}

#[test]
fn optimizer_state_dict_round_trip() {
    let _g = rng_lock();
    let run = |resume: bool| {
        let w = tensor!([1.0, -2.0]).requires_grad_(true);
        let mut opt = Adam::with_options(
            [&w],
            AdamOptions {
                lr: 0.1,
                amsgrad: true,
                ..Default::default()
            },
        );
        for step in 0..6 {
            if resume && step == 3 {
                // rebuild the optimizer from its saved state, as after loading a checkpoint
                let sd = opt.state_dict();
                opt = Adam::new([&w], 0.5);
                opt.load_state_dict(&sd).unwrap();
            }
            w.set_grad(Some(w.detach().mul(2.0).add(0.5)));
            opt.step();
        }
        w.to_vec::<f32>()
    };
    assert_eq!(run(false), run(true));
    // a state dict for other groups is refused, and the optimizer is left as it was
    let w = Tensor::ones([2]).requires_grad_(true);
    let mut opt = SGD::new([&w], 0.1).momentum(0.9);
    let mut sd = opt.state_dict();
    sd.param_groups[0].1.push(7);
    assert_eq!(
        opt.load_state_dict(&sd).unwrap_err().to_string(),
        "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
    );
    sd.param_groups.push(Default::default());
    assert_eq!(
        opt.load_state_dict(&sd).unwrap_err().to_string(),
        "loaded state dict has a different number of parameter groups"
    );
}

/// The learning rate at construction, then after each `step` (PyTorch 2.15's values).
fn lrs(n: usize, make: impl FnOnce(&mut SGD) -> Box<dyn LRScheduler>) -> Vec<f64> {
    let p = Tensor::zeros([1]).requires_grad_(true);
    let mut opt = SGD::new([&p], 0.1).momentum(0.9);
    let mut s = make(&mut opt);
    let mut out = vec![opt.lr(0)];
    for _ in 0..n {
        opt.step();
        s.step(&mut opt);
        out.push(opt.lr(0));
    }
    out
}

fn assert_lrs(got: Vec<f64>, want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-15 * w.abs().max(1e-15),
            "got {got:?}\nwant {want:?}"
        );
    }
}

#[test]
fn schedulers_match_pytorch() {
    let _g = rng_lock();
    assert_lrs(
        lrs(7, |o| Box::new(MultiStepLR::new(o, &[2, 4, 4], 0.5))),
        &[0.1, 0.1, 0.05, 0.05, 0.0125, 0.0125, 0.0125, 0.0125],
    );
    assert_lrs(
        lrs(7, |o| Box::new(ExponentialLR::new(o, 0.9))),
        &[
            0.1,
            0.09000000000000001,
            0.08100000000000002,
            0.07290000000000002,
            0.06561000000000002,
            0.05904900000000002,
            0.05314410000000002,
            0.04782969000000002,
        ],
    );
    assert_lrs(
        lrs(7, |o| {
            Box::new(LambdaLR::new(o, |e| 1.0 / (e as f64 + 1.0)))
        }),
        &[
            0.1,
            0.05,
            0.03333333333333333,
            0.025,
            0.020000000000000004,
            0.016666666666666666,
            0.014285714285714285,
            0.0125,
        ],
    );
    assert_lrs(
        lrs(10, |o| Box::new(CosineAnnealingLR::new(o, 3, 0.01))),
        &[
            0.1,
            0.0775,
            0.032500000000000015,
            0.01,
            0.0325,
            0.07750000000000005,
            0.10000000000000007,
            0.07750000000000007,
            0.03250000000000006,
            0.01,
            0.0325,
        ],
    );
    assert_lrs(
        lrs(9, |o| {
            let opts = OneCycleOptions {
                three_phase: true,
                anneal_strategy: AnnealStrategy::Linear,
                ..Default::default()
            };
            Box::new(OneCycleLR::with(o, 0.1, 10, opts))
        }),
        &[
            0.004,
            0.052000000000000005,
            0.1,
            0.052000000000000005,
            0.0040000000000000036,
            0.00320008,
            0.00240016,
            0.0016002400000000002,
            0.0008003200000000002,
            4.0000000000022656e-07,
        ],
    );
}

#[test]
fn reduce_lr_on_plateau_matches_pytorch() {
    let _g = rng_lock();
    let p = Tensor::zeros([1]).requires_grad_(true);
    let mut opt = SGD::new([&p], 0.1).momentum(0.9);
    let mut s = ReduceLROnPlateau::new(&opt).patience(1).factor(0.5);
    let mut got = vec![opt.lr(0)];
    for m in [1.0, 0.9, 0.95, 0.97, 0.96, 0.5, 0.6, 0.7] {
        s.step(&mut opt, m);
        got.push(opt.lr(0));
    }
    assert_lrs(got, &[0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025]);
}

#[test]
fn loss_modules_wrap_the_functions() {
    let _g = rng_lock();
    let x = tensor!([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]]);
    let t = tensor!([0, 2]);
    let opts = F::CrossEntropyOptions {
        label_smoothing: 0.1,
        ignore_index: 2,
        ..Default::default()
    };
    let module = nn::CrossEntropyLoss::new()
        .label_smoothing(0.1)
        .ignore_index(2);
    assert!(
        module
            .forward(&x, &t)
            .equal(&F::cross_entropy(&x, &t, &opts))
    );
    // class weights are a buffer, as in PyTorch
    let weighted = nn::CrossEntropyLoss::new().weight(tensor!([1.0, 2.0, 3.0]));
    assert_eq!(weighted.state_dict().keys(), ["weight"]);
    assert_eq!(
        nn::MSELoss::new()
            .reduction(nn::Reduction::Sum)
            .forward(&tensor!([1.0, 2.0]), &tensor!([0.0, 0.0]))
            .item::<f32>(),
        5.0
    );
}
