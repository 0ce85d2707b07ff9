//! `model.to_dtype(DType::F64)` after the optimizers were built: as PyTorch's `model.double()`
//! (which assigns `param.data`, keeping each parameter object), the optimizer keeps updating the
//! model's parameters, now float64, exactly as an optimizer built after the conversion would.
//!
//! PyTorch's behaviour, from the PyTorch behaviour notes this battery was written from
//! (".data assignment"): after `opt = SGD(m.parameters()); m.double()`, `opt.step()` updates
//! `m.weight`, `opt.param_groups[0]['params'][0] is m.weight` and `m.weight.grad.dtype` is
//! float64. The comparison run (optimizer built after the conversion) needs no PyTorch values.

use flambeau::nn::{Forward, Linear, MSELoss, Module, ReLU, Sequential, StateDict};
use flambeau::optim::{Adam, Optimizer, SGD};
use flambeau::{DType, Generator, Tensor};

/// A copy of the module's initial values, to start both runs from the same weights.
fn snapshot<M: Module>(m: &M) -> StateDict {
    let mut sd = StateDict::new();
    for (k, v) in m.state_dict().iter() {
        sd.insert(k, v.clone_tensor());
    }
    sd
}

fn batch() -> (Tensor, Tensor) {
    let g = Generator::new();
    g.manual_seed(7);
    let x = Tensor::randn_gen([6, 3], DType::F64, &g);
    let y = Tensor::randn_gen([6, 2], DType::F64, &g);
    (x, y)
}

/// Three steps of `make_opt` on `model`, the optimizer built before (`early`) or after the
/// float64 conversion; returns the parameters' values.
fn train<M: Module + Forward>(
    mut model: M,
    early: bool,
    make_opt: &dyn Fn(&M) -> Box<dyn Optimizer>,
) -> Vec<Vec<f64>> {
    let mut opt = if early { Some(make_opt(&model)) } else { None };
    model.to_dtype(DType::F64);
    let mut opt = opt.take().unwrap_or_else(|| make_opt(&model));
    // The optimizer holds the model's very parameters, now float64.
    let held: Vec<Tensor> = (0..opt.num_groups())
        .flat_map(|g| opt.group_params(g).to_vec())
        .collect();
    let params = model.parameters();
    assert_eq!(held.len(), params.len());
    for (h, p) in held.iter().zip(&params) {
        assert!(h.is_same(p), "the optimizer holds another tensor");
        assert_eq!(h.dtype(), DType::F64);
    }
    let (x, y) = batch();
    for _ in 0..3 {
        opt.zero_grad();
        MSELoss::new().forward(&model.forward(&x), &y).backward();
        for p in &params {
            assert_eq!(p.grad().unwrap().dtype(), DType::F64);
        }
        opt.step();
    }
    params.iter().map(|p| p.to_vec::<f64>()).collect()
}

fn compare<M: Module + Forward>(
    build: &dyn Fn() -> M,
    make_opt: &dyn Fn(&M) -> Box<dyn Optimizer>,
) {
    let reference = build();
    let init = snapshot(&reference);
    let fresh = || {
        let m = build();
        m.load_state_dict(&init, true).unwrap();
        m
    };
    let initial: Vec<Vec<f64>> = fresh()
        .parameters()
        .iter()
        .map(|p| p.to_dtype(DType::F64).to_vec::<f64>())
        .collect();
    let early = train(fresh(), true, make_opt);
    let late = train(fresh(), false, make_opt);
    assert_ne!(
        early, initial,
        "the optimizer built before to_dtype updated nothing"
    );
    assert_eq!(early, late, "optimizer built before vs after to_dtype");
}

fn sgd<M: Module>(m: &M) -> Box<dyn Optimizer> {
    Box::new(SGD::new(m.parameters(), 0.1).momentum(0.9))
}

fn adam<M: Module>(m: &M) -> Box<dyn Optimizer> {
    Box::new(Adam::new(m.parameters(), 0.01))
}

#[test]
fn linear_to_f64_after_sgd_and_adam_were_built() {
    let build = || Linear::new(3, 2);
    compare(&build, &sgd);
    compare(&build, &adam);
}

#[test]
fn sequential_to_f64_after_sgd_and_adam_were_built() {
    let build = || {
        Sequential::new()
            .add(Linear::new(3, 4))
            .add(ReLU::new())
            .add(Linear::new(4, 2))
    };
    compare(&build, &sgd);
    compare(&build, &adam);
}

/// Both optimizers built before one conversion: each updates the float64 parameters.
#[test]
fn two_optimizers_built_before_to_dtype_both_step() {
    let mut m = Linear::new(3, 2);
    let mut opt_sgd = SGD::new(m.parameters(), 0.1);
    let mut opt_adam = Adam::new(m.parameters(), 0.01);
    m.to_dtype(DType::F64);
    let (x, y) = batch();
    for opt in [&mut opt_sgd as &mut dyn Optimizer, &mut opt_adam] {
        let before = m.weight.to_vec::<f64>();
        opt.zero_grad();
        MSELoss::new().forward(&m.forward(&x), &y).backward();
        opt.step();
        assert_eq!(m.weight.dtype(), DType::F64);
        assert_ne!(
            m.weight.to_vec::<f64>(),
            before,
            "step did not update the weight"
        );
    }
}
