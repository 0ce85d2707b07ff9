//! The tutorial itself, line for line: fake data, `nn.Linear(1, 1)`, `nn.MSELoss`, `optim.SGD`
//! and the training loop. Kept apart from printing and plotting so that a test can run exactly
//! this code path against PyTorch's recorded run.

use flambeau::nn::{Forward, Linear, MSELoss, Module, Parameter};
use flambeau::optim::Optimizer;
use flambeau::{DType, Tensor, randint, randn};

/// `get_fake_data(num)`: `y = 0.5 * x + 30` plus standard normal noise, `x` integers in
/// `[-5, 30)` as float32.
pub fn get_fake_data(num: usize) -> (Tensor, Tensor) {
    let x = randint(-5, 30, [num]).to_dtype(DType::F32);
    let y = 0.5 * &x + 30.0 + randn([num]);
    (x, y)
}

/// What the training loop reports after each epoch.
pub struct Epoch<'a> {
    /// 1-based epoch number.
    pub epoch: usize,
    /// The loss computed in this epoch, before its update.
    pub loss: f32,
    /// The predictions `model(x)` of this epoch (before its update).
    pub y_p: &'a Tensor,
    /// The model after this epoch's update.
    pub model: &'a Linear,
}

/// `training_loop(n_epochs, optimizer, model, loss_fn, x, y)`: forward, `zero_grad`, backward,
/// `step`, every epoch; `on_epoch` sees each epoch (the tutorial redraws its plot every 10).
/// Returns `list(model.parameters())`.
pub fn training_loop(
    n_epochs: usize,
    optimizer: &mut dyn Optimizer,
    model: &Linear,
    loss_fn: &MSELoss,
    x: &Tensor,
    y: &Tensor,
    mut on_epoch: impl FnMut(Epoch<'_>),
) -> Vec<Parameter> {
    for epoch in 1..=n_epochs {
        // forward
        let y_p = model.forward(x);
        let loss = loss_fn.forward(&y_p, y);
        // zero the gradients
        optimizer.zero_grad();
        // backward
        loss.backward();
        // update the parameters
        optimizer.step();
        on_epoch(Epoch {
            epoch,
            loss: loss.item::<f32>(),
            y_p: &y_p,
            model,
        });
    }
    model.parameters()
}

/// The fitted line's label as the tutorial prints it: the slope rescaled to the original `x`
/// (which was multiplied by 0.1), then the intercept, both with three decimals.
pub fn fit_label(model: &Linear) -> (f64, f64) {
    let w = model.weight.item::<f64>() * 0.1;
    let b = model
        .bias
        .as_ref()
        .expect("the tutorial's model has a bias")
        .item::<f64>();
    (w, b)
}
