//! The loss kernels PyTorch has as ops of their own, with their named backward ops:
//! `mse_loss` / `mse_loss_backward` and the reduced `nll_loss` / `nll_loss_backward`. The rest of
//! `torch.nn.functional`'s losses are compositions (in `nn/functional.rs`).

use crate::autograd::{SavedTensor, backward_fn, no_grad, record};
use crate::backend::MseReduce;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// How a loss reduces its per-element values (`reduction=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Reduction {
    /// Keep every element (`'none'`).
    None,
    /// Average (`'mean'`, the default).
    #[default]
    Mean,
    /// Sum (`'sum'`).
    Sum,
}

impl Reduction {
    /// Parses PyTorch's string form.
    #[track_caller]
    pub fn parse(s: &str) -> Reduction {
        match s {
            "none" => Reduction::None,
            "mean" => Reduction::Mean,
            "sum" => Reduction::Sum,
            other => panic!("{other} is not a valid value for reduction"),
        }
    }

    #[track_caller]
    pub(crate) fn apply(self, t: Tensor) -> Tensor {
        match self {
            Reduction::None => t,
            Reduction::Mean => t.mean(),
            Reduction::Sum => t.sum(),
        }
    }
}

backward_fn! {
    struct MseLossBackward0 { input: SavedTensor, target: SavedTensor, reduction: Reduction }
    saved [input, target]
    fn backward(&mut self, grad, needs) {
        let g = Tensor::mse_loss_backward(grad, &self.input.get(), &self.target.get(), self.reduction);
        let gy = needs[1].then(|| g.neg());
        smallvec::smallvec![needs[0].then_some(g), gy]
    }
}

backward_fn! {
    /// derivatives.yaml: `grad_output: mse_loss_backward(grad, self, target, reduction)`,
    /// `self: mse_loss_double_backward(grad * grad_output, self, reduction)`, `target: -self's`.
    struct MseLossBackwardBackward0 { grad_output: SavedTensor, input: SavedTensor, target: SavedTensor, reduction: Reduction }
    saved [grad_output, input, target]
    fn backward(&mut self, grad, needs) {
        let x = self.input.get();
        let ggo = needs[0].then(|| Tensor::mse_loss_backward(grad, &x, &self.target.get(), self.reduction));
        let double = (needs[1] || needs[2]).then(|| {
            let g = grad.mul(self.grad_output.get()).mul(2.0);
            if self.reduction == Reduction::Mean { g.div(x.numel() as f64) } else { g }
        });
        let gy = needs[2].then(|| double.as_ref().expect("computed").neg());
        smallvec::smallvec![ggo, needs[1].then(|| double.clone().expect("computed")), gy]
    }
}

backward_fn! {
    /// The reduced `nll_loss`: its gradient is `nll_loss_backward`, written with tensor
    /// operations (so it is differentiable in the incoming gradient).
    struct NllLossBackward0 { target: Tensor, weight: Option<Tensor>, total_weight: Tensor, mean: bool, classes: usize }
    saved []
    fn backward(&mut self, grad, needs) {
        let g = nll_loss_backward(grad, &self.target, self.weight.as_ref(), &self.total_weight, self.mean, self.classes);
        smallvec::smallvec![Some(g)]
    }
}

/// ATen's `nll_loss_backward` for the reduced forms: zeros, with `w[t] * -(grad / total_weight)`
/// (`-grad` for sum) at each row's (non-ignored, already made safe) target.
#[track_caller]
fn nll_loss_backward(
    grad: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    total_weight: &Tensor,
    mean: bool,
    classes: usize,
) -> Tensor {
    let rows = target.numel();
    let g = if mean {
        grad.div(total_weight).neg()
    } else {
        grad.neg()
    };
    let keep = target.ge(0);
    let safe = target.masked_fill(&keep.logical_not(), 0);
    let values = match weight {
        Some(w) => w.index_select(0, &safe).mul(&g),
        None => g.expand([rows]),
    };
    let values = Tensor::where_(&keep, &values, 0.0);
    Tensor::zeros_dtype([rows, classes], grad.dtype()).scatter(
        1,
        &safe.unsqueeze(1),
        &values.unsqueeze(1),
    )
}

impl Tensor {
    /// `mse_loss_backward(grad, input, target, reduction)`: `(input - target) * norm * grad`,
    /// `norm` being `2 / numel` for `'mean'` and 2 otherwise (ATen's kernel order).
    #[track_caller]
    pub fn mse_loss_backward(
        grad: &Tensor,
        input: &Tensor,
        target: &Tensor,
        reduction: Reduction,
    ) -> Tensor {
        let norm = match reduction {
            Reduction::Mean => 2.0 / input.numel() as f64,
            _ => 2.0,
        };
        let dtype = input.dtype();
        let fused = dtype.is_float()
            && target.dtype() == dtype
            && grad.dtype() == dtype
            && target.dims() == input.dims()
            && (grad.ndim() == 0 || grad.dims() == input.dims());
        let out = if fused {
            // One pass, ATen's `mse_backward_cpu_kernel`: `norm * (input - target) * grad`.
            let mut locked = crate::storage::lock(&[], &[grad.cell(), input.cell(), target.cell()]);
            let r = locked.reads();
            let storage = r[0].mse_loss_backward(
                grad.layout(),
                (r[1], input.layout()),
                (r[2], target.layout()),
                norm,
            );
            Tensor::from_storage(storage, input.shape().clone())
        } else {
            no_grad(|| input.sub(target).mul(norm).mul(grad))
        };
        record(out, &[grad, input, target], |_| MseLossBackwardBackward0 {
            grad_output: SavedTensor::input(grad),
            input: SavedTensor::input(input),
            target: SavedTensor::input(target),
            reduction,
        })
    }

    /// `(self - target)²` reduced (`F.mse_loss`) with its fused backward; both already have the
    /// broadcast shape.
    #[track_caller]
    pub(crate) fn mse_loss_raw(&self, target: &Tensor, reduction: Reduction) -> Tensor {
        let dtype = self.dtype();
        let out = if dtype.is_float() && target.dtype() == dtype {
            // One pass (ATen's `mse_stub`, then `sum_out` / `mean_out` of the squares).
            let reduce = match reduction {
                Reduction::None => MseReduce::None,
                Reduction::Sum => MseReduce::Sum,
                Reduction::Mean => MseReduce::Mean,
            };
            let pair = crate::storage::ReadPair::new(self.cell(), target.cell());
            let (x, y) = pair.get();
            let storage = x.mse_loss(self.layout(), (y, target.layout()), reduce);
            let shape = match reduce {
                MseReduce::None => self.shape().clone(),
                _ => Shape::new(&[]),
            };
            Tensor::from_storage(storage, shape)
        } else {
            no_grad(|| reduction.apply(self.sub(target).pow(2)))
        };
        record(out, &[self, target], |_| MseLossBackward0 {
            input: SavedTensor::input(self),
            target: SavedTensor::input(target),
            reduction,
        })
    }

    /// The reduced negative log-likelihood of a (rows, classes) input against int64 targets
    /// (already checked; ignored rows marked by `ignore_index`): PyTorch's kernel, summing in
    /// its cascade order, divided by the total weight for `'mean'`.
    #[track_caller]
    pub(crate) fn nll_loss_reduced(
        &self,
        target: &Tensor,
        weight: Option<&Tensor>,
        ignore_index: i64,
        mean: bool,
    ) -> Tensor {
        let weight = weight.map(|w| w.cast_raw(self.dtype()));
        let (sum, total) = {
            let cells: Vec<_> = [self, target]
                .into_iter()
                .chain(weight.as_ref())
                .map(|t| t.cell())
                .collect();
            let mut locked = crate::storage::lock(&[], &cells);
            let r = locked.reads();
            let w = weight.as_ref().map(|w| (r[2], w.layout()));
            r[0].nll_loss(self.layout(), (r[1], target.layout()), w, ignore_index)
        };
        let (sum, total) = (
            Tensor::from_storage(sum, crate::Shape::new(&[])),
            Tensor::from_storage(total, crate::Shape::new(&[])),
        );
        let out = if mean {
            super::binary::binary_raw(&sum, &total, super::binary::BinOp::Div)
        } else {
            sum
        };
        let marked = target.masked_fill(&target.eq(ignore_index), -1);
        record(out, &[self], |_| NllLossBackward0 {
            target: marked,
            weight,
            total_weight: total,
            mean,
            classes: self.dims()[1],
        })
    }
}
