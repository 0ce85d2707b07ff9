//! `Module::apply`, `requires_grad_` on modules, `downcast_ref`, and forward hooks / pre-hooks
//! (`nn::Hooked`) with removable handles.

use flambeau::nn::{self, Forward, Hooked, Linear, Module, ReLU, Sequential, init};
use flambeau::{Tensor, manual_seed};
use std::sync::{Arc, Mutex};

#[derive(Module)]
struct Block {
    fc: Linear,
    act: ReLU,
}

#[derive(Module)]
struct Net {
    body: Block,
    head: Sequential,
}

fn net() -> Net {
    Net {
        body: Block {
            fc: Linear::new(4, 8),
            act: ReLU::new(),
        },
        head: Sequential::new().add(Linear::new(8, 3)).add(ReLU::new()),
    }
}

#[test]
fn apply_visits_children_before_their_parent_in_pytorch_order() {
    // PyTorch: `for m in self.children(): m.apply(fn)` then `fn(self)`, i.e. post-order.
    let n = net();
    let mut order = Vec::new();
    n.apply(&mut |m| order.push(m.type_name()));
    assert_eq!(
        order,
        [
            "Linear",
            "ReLU",
            "Block",
            "Linear",
            "ReLU",
            "Sequential",
            "Net"
        ]
    );
}

#[test]
fn apply_reinitialises_parameters_in_place_by_type() {
    let n = net();
    // state_dict tensors share the module's storage: keep copies.
    let before: Vec<Tensor> = ["body.fc.weight", "head.0.weight"]
        .iter()
        .map(|k| n.state_dict().get(k).unwrap().clone_tensor())
        .collect();
    n.apply(&mut |m| {
        if let Some(l) = m.downcast_ref::<Linear>() {
            init::xavier_uniform_(&l.weight, 1.0);
            if let Some(b) = &l.bias {
                init::constant_(b, 0.01);
            }
        }
    });
    let after = n.state_dict();
    for k in ["body.fc.bias", "head.0.bias"] {
        assert!(after.get(k).unwrap().eq(0.01).all_true(), "{k}");
    }
    for (k, b) in ["body.fc.weight", "head.0.weight"].iter().zip(&before) {
        assert!(!after.get(k).unwrap().equal(b), "{k}");
    }
}

#[test]
fn downcast_matches_only_the_concrete_type() {
    let n = net();
    let m: &dyn Module = &n.body;
    assert!(m.is::<Block>());
    assert!(!m.is::<Linear>());
    let children = n.named_children();
    assert!(children[1].1.downcast_ref::<Sequential>().is_some());
}

#[test]
fn requires_grad_false_freezes_a_submodule() {
    manual_seed(0);
    let n = net();
    n.body.requires_grad_(false);
    let y = n.head.forward(
        &n.body
            .act
            .forward(&n.body.fc.forward(&Tensor::randn([2, 4]))),
    );
    y.sum().backward();
    assert!(n.body.fc.weight.grad().is_none());
    assert!(n.body.fc.bias.as_ref().unwrap().grad().is_none());
    assert!(n.head.parameters().iter().all(|p| p.grad().is_some()));
    // And back: unfreezing gives gradients again.
    n.requires_grad_(true);
    assert!(n.parameters().iter().all(|p| p.requires_grad()));
}

#[test]
fn forward_hooks_run_in_registration_order_after_pre_hooks() {
    let m = Hooked::new(ReLU::new());
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let l = log.clone();
    let _a = m.register_forward_pre_hook(move |_, x| {
        l.lock()
            .unwrap()
            .push(format!("pre1 {}", x.sum().item::<f32>()));
        Some(x - 1.0)
    });
    let l = log.clone();
    let _b = m.register_forward_pre_hook(move |_, x| {
        l.lock()
            .unwrap()
            .push(format!("pre2 {}", x.sum().item::<f32>()));
        None
    });
    let l = log.clone();
    let _c = m.register_forward_hook(move |_, x, y| {
        l.lock().unwrap().push(format!(
            "post1 {} {}",
            x.sum().item::<f32>(),
            y.sum().item::<f32>()
        ));
        Some(y * 10.0)
    });
    let l = log.clone();
    let _d = m.register_forward_hook(move |_, _, y| {
        l.lock()
            .unwrap()
            .push(format!("post2 {}", y.sum().item::<f32>()));
        None
    });
    let y = m.forward(&Tensor::from_vec(vec![0.5f32, 2.0, 3.0], [3]));
    assert_eq!(y.to_vec::<f32>(), vec![0.0, 10.0, 20.0]);
    assert_eq!(
        *log.lock().unwrap(),
        ["pre1 5.5", "pre2 2.5", "post1 2.5 3", "post2 30"]
    );
}

#[test]
fn removed_hooks_stop_and_outlived_handles_are_harmless() {
    let m = Hooked::new(Linear::new(2, 2));
    let calls = Arc::new(Mutex::new(0));
    let c = calls.clone();
    let h = m.register_forward_hook(move |_, _, _| {
        *c.lock().unwrap() += 1;
        None
    });
    m.forward(&Tensor::ones([1, 2]));
    h.remove();
    h.remove();
    m.forward(&Tensor::ones([1, 2]));
    assert_eq!(*calls.lock().unwrap(), 1);
    let h2 = m.register_forward_pre_hook(|_, _| None);
    drop(m);
    h2.remove();
}

#[test]
fn a_hook_may_register_and_remove_hooks_without_deadlock() {
    let m = Arc::new(Hooked::new(ReLU::new()));
    let weak = Arc::downgrade(&m);
    let handles = Arc::new(Mutex::new(Vec::new()));
    let hs = handles.clone();
    let _h = m.register_forward_hook(move |_, _, _| {
        if let Some(m) = weak.upgrade() {
            hs.lock()
                .unwrap()
                .push(m.register_forward_pre_hook(|_, _| None));
        }
        None
    });
    m.forward(&Tensor::ones(2));
    m.forward(&Tensor::ones(2));
    assert_eq!(m.num_hooks(), (2, 1));
    for h in handles.lock().unwrap().iter() {
        h.remove();
    }
    assert_eq!(m.num_hooks(), (0, 1));
}

#[test]
fn hooks_run_from_many_threads() {
    let m = Arc::new(Hooked::new(Linear::new(3, 3)));
    let count = Arc::new(Mutex::new(0usize));
    let c = count.clone();
    let _h = m.register_forward_hook(move |_, _, _| {
        *c.lock().unwrap() += 1;
        None
    });
    std::thread::scope(|s| {
        for _ in 0..8 {
            let m = m.clone();
            s.spawn(move || {
                for _ in 0..25 {
                    m.forward(&Tensor::ones([2, 3]));
                    let h = m.register_forward_pre_hook(|_, _| None);
                    h.remove();
                }
            });
        }
    });
    assert_eq!(*count.lock().unwrap(), 200);
    assert_eq!(m.num_hooks(), (0, 1));
}

#[test]
fn a_hooked_child_keeps_the_state_dict_keys_and_the_repr() {
    #[derive(Module)]
    struct Probe {
        fc1: Hooked<Linear>,
        fc2: Linear,
    }
    let p = Probe {
        fc1: Hooked::new(Linear::new(2, 3)),
        fc2: Linear::new(3, 1),
    };
    assert_eq!(
        p.state_dict().keys(),
        ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    );
    assert_eq!(
        format!("{p}"),
        "Probe(\n  (fc1): Linear(in_features=2, out_features=3, bias=True)\n  (fc2): Linear(in_features=3, out_features=1, bias=True)\n)"
    );
    // A feature-extraction hook, as PyTorch users register on a layer.
    let features = Arc::new(Mutex::new(None));
    let f = features.clone();
    let _h = p.fc1.register_forward_hook(move |_, _, y| {
        *f.lock().unwrap() = Some(y.detach());
        None
    });
    let x = Tensor::ones([5, 2]);
    let _ = p.fc2.forward(&p.fc1.forward(&x));
    assert_eq!(features.lock().unwrap().as_ref().unwrap().dims(), &[5, 3]);
    let mut names = Vec::new();
    p.apply(&mut |m| {
        if m.is::<Linear>() {
            names.push(m.type_name())
        }
    });
    assert_eq!(names.len(), 2);
    let _ = nn::Identity::new();
}
