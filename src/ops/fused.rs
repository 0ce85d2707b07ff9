//! The optimizers' in-place updates: `add_(other, alpha)`, `addcmul_`, `addcdiv_`, `lerp_` and
//! the fused Adam step. Outside autograd, on contiguous float tensors, each is one pass of the
//! backend's fused family with PyTorch's FMA rounding; otherwise it is the op-by-op form.

use super::inplace::{check_broadcast_to, check_overlap, tracked};
use crate::backend::AdamBuffers;
pub(crate) use crate::backend::AdamScalars;
use crate::shape::Layout;
use crate::storage::{Storage, lock, lock_write_read};
use crate::tensor::Tensor;
use smallvec::SmallVec;

impl Tensor {
    /// The operands of a fused update, each contiguous with this tensor's shape and dtype and not
    /// sharing its storage (copied when they are broadcast, strided or aliasing); `None` when the
    /// fused path does not apply.
    #[track_caller]
    fn fused_operands(&self, operands: &[&Tensor]) -> Option<SmallVec<[Tensor; 2]>> {
        let dtype = self.dtype();
        if !dtype.is_float() || !self.is_contiguous() || operands.iter().any(|o| o.dtype() != dtype)
        {
            return None;
        }
        Some(
            operands
                .iter()
                .map(|o| {
                    if o.dims() == self.dims() {
                        if o.is_contiguous() && !o.shares_storage(self) {
                            return (*o).clone();
                        }
                    } else {
                        check_broadcast_to(o.dims(), self.dims());
                    }
                    o.expand(self.dims()).clone_tensor_raw()
                })
                .collect(),
        )
    }

    /// Runs `kernel` on this tensor's storage with the operands' storages, locked in the global
    /// order, then bumps the version.
    #[track_caller]
    fn fused_apply(
        &self,
        operands: &[Tensor],
        kernel: impl FnOnce(&mut Storage, &Layout, &[(&Storage, &Layout)]),
    ) {
        if let [o] = operands {
            let (mut w, r) = lock_write_read(self.cell(), o.cell());
            kernel(&mut w, self.layout(), &[(&r, o.layout())]);
        } else {
            let cells: Vec<_> = operands.iter().map(|o| o.cell()).collect();
            let mut locked = lock(&[self.cell()], &cells);
            let (mut w, r) = locked.parts();
            let srcs: Vec<(&Storage, &Layout)> = r
                .iter()
                .zip(operands)
                .map(|(s, o)| (*s, o.layout()))
                .collect();
            kernel(&mut *w[0], self.layout(), &srcs);
        }
        self.bump_version();
    }

    /// `self += alpha * other` in place (`tensor.add_(other, alpha=alpha)`), the SGD update,
    /// rounded as PyTorch's kernel (one fused multiply-add).
    #[track_caller]
    pub fn add_alpha_(&self, other: &Tensor, alpha: f64) -> Tensor {
        if alpha == 1.0 {
            return self.add_(other);
        }
        check_overlap(self, &[other]);
        if !tracked(self, &[other]) {
            if let Some(ops) = self.fused_operands(&[other]) {
                self.fused_apply(&ops, |y, l, s| y.axpy_inplace(l, s[0].0, s[0].1, alpha));
                return self.clone();
            }
        }
        self.add_(&other.mul(alpha))
    }

    /// `self += value * t1 * t2` in place (`tensor.addcmul_(t1, t2, value=value)`).
    #[track_caller]
    pub fn addcmul_(&self, t1: &Tensor, t2: &Tensor, value: f64) -> Tensor {
        check_overlap(self, &[t1, t2]);
        if !tracked(self, &[t1, t2]) {
            if let Some(ops) = self.fused_operands(&[t1, t2]) {
                self.fused_apply(&ops, |y, l, s| y.addcmul_inplace(l, s[0], s[1], value));
                return self.clone();
            }
        }
        self.add_(&t1.mul(value).mul(t2))
    }

    /// `self += value * t1 / t2` in place (`tensor.addcdiv_(t1, t2, value=value)`).
    #[track_caller]
    pub fn addcdiv_(&self, t1: &Tensor, t2: &Tensor, value: f64) -> Tensor {
        check_overlap(self, &[t1, t2]);
        if !tracked(self, &[t1, t2]) {
            if let Some(ops) = self.fused_operands(&[t1, t2]) {
                self.fused_apply(&ops, |y, l, s| y.addcdiv_inplace(l, s[0], s[1], value));
                return self.clone();
            }
        }
        self.add_(&t1.mul(value).div(t2))
    }

    /// `self += weight * (end - self)` in place (`tensor.lerp_(end, weight)`).
    #[track_caller]
    pub fn lerp_(&self, end: &Tensor, weight: f64) -> Tensor {
        check_overlap(self, &[end]);
        if !tracked(self, &[end]) {
            if let Some(ops) = self.fused_operands(&[end]) {
                self.fused_apply(&ops, |y, l, s| y.lerp_inplace(l, s[0].0, s[0].1, weight));
                return self.clone();
            }
        }
        self.add_(&end.sub(self).mul(weight))
    }
}

/// One Adam/AdamW step over one parameter in a single pass, when the parameter, its gradient and
/// its state are contiguous float tensors of one dtype and shape with distinct storages (always,
/// unless a gradient was set by hand); returns false, doing nothing, otherwise, and the caller
/// takes the step op by op.
#[track_caller]
pub(crate) fn adam_step(
    param: &Tensor,
    grad: &Tensor,
    exp_avg: &Tensor,
    exp_avg_sq: &Tensor,
    max_exp_avg_sq: Option<&Tensor>,
    scalars: &AdamScalars,
) -> bool {
    let dtype = param.dtype();
    let mut state = vec![param, exp_avg, exp_avg_sq];
    state.extend(max_exp_avg_sq);
    let fits = |t: &Tensor| t.dtype() == dtype && t.is_contiguous() && t.dims() == param.dims();
    let distinct = state
        .iter()
        .enumerate()
        .all(|(i, t)| !t.shares_storage(grad) && !state[..i].iter().any(|u| u.shares_storage(t)));
    if !dtype.is_float() || !state.iter().all(|t| fits(t)) || !fits(grad) || !distinct {
        return false;
    }
    let writes: Vec<_> = state.iter().map(|t| t.cell()).collect();
    {
        let mut locked = lock(&writes, &[grad.cell()]);
        let (w, r) = locked.parts();
        let mut w = w.into_iter();
        let (p, m, v) = (w.next().unwrap(), w.next().unwrap(), w.next().unwrap());
        let vmax = w.next().zip(max_exp_avg_sq).map(|(s, t)| (s, t.layout()));
        Storage::adam_step(
            AdamBuffers {
                param: (p, param.layout()),
                grad: (r[0], grad.layout()),
                exp_avg: (m, exp_avg.layout()),
                exp_avg_sq: (v, exp_avg_sq.layout()),
                max_exp_avg_sq: vmax,
            },
            scalars,
        );
    }
    for t in state {
        t.bump_version();
    }
    true
}
