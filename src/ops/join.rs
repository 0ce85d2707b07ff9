//! Joining tensors: `cat` and `stack`.

use crate::autograd::{NamedBackward, attach, backward_fn, needs_grad};
use crate::dtype::DType;
use crate::shape::{Shape, wrap_dim};
use crate::tensor::Tensor;

backward_fn! {
    /// Each input gets its slice of the gradient (cast back to its dtype by the engine).
    struct CatBackward0 { dim: usize, sizes: Vec<usize>, stacked: bool }
    names [StackBackward0]
    saved []
    fn backward(&mut self, grad, needs) {
        let mut start = 0;
        self.sizes
            .iter()
            .zip(needs)
            .map(|(&len, &need)| {
                let s = start;
                start += len;
                need.then(|| {
                    let g = grad.narrow(self.dim as i64, s as i64, len);
                    if self.stacked { g.squeeze_dim(self.dim as i64) } else { g }
                })
            })
            .collect()
    }
}

#[track_caller]
fn cat_impl(tensors: &[&Tensor], dim: i64, record: bool) -> Tensor {
    if tensors.is_empty() {
        panic!("torch.cat(): expected a non-empty list of Tensors");
    }
    // PyTorch skips 1-D empty tensors (legacy behaviour) when checking shapes.
    let reference = tensors
        .iter()
        .find(|t| !(t.ndim() == 1 && t.numel() == 0))
        .unwrap_or(&tensors[0]);
    let nd = reference.ndim();
    if nd == 0 {
        panic!("zero-dimensional tensor (at position 0) cannot be concatenated");
    }
    let d = wrap_dim(dim, nd);
    let dtype = tensors
        .iter()
        .map(|t| t.dtype())
        .reduce(DType::promote)
        .unwrap();
    let parts: Vec<&Tensor> = tensors
        .iter()
        .copied()
        .filter(|t| !(t.ndim() == 1 && t.numel() == 0 && nd != 1))
        .collect();
    let mut out_dims = reference.dims().to_vec();
    out_dims[d] = 0;
    for (i, t) in parts.iter().enumerate() {
        if t.ndim() != nd {
            panic!(
                "Tensors must have same number of dimensions: got {} and {}",
                nd,
                t.ndim()
            );
        }
        for k in 0..nd {
            if k != d && t.dims()[k] != reference.dims()[k] {
                panic!(
                    "Sizes of tensors must match except in dimension {d}. Expected size {} but got size {} for tensor number {i} in the list.",
                    reference.dims()[k],
                    t.dims()[k]
                );
            }
        }
        out_dims[d] += t.dims()[d];
    }
    let out = Tensor::zeros_dtype(Shape::new(&out_dims), dtype);
    let mut start = 0;
    for t in &parts {
        let len = t.dims()[d];
        if len > 0 {
            let view = out.narrow_raw(d, start, len);
            view.copy_raw(&t.cast_raw(dtype));
        }
        start += len;
    }
    if record && needs_grad(tensors) {
        let backward = CatBackward0 {
            dim: d,
            sizes: tensors
                .iter()
                .map(|t| if t.ndim() == nd { t.dims()[d] } else { 0 })
                .collect(),
            stacked: false,
        };
        attach(&out, CatBackward0::NAME, tensors, Box::new(backward));
    }
    out
}

impl Tensor {
    /// Concatenates along an existing dim (`torch.cat(tensors, dim)`).
    ///
    /// ```
    /// use flambeau::{tensor, Tensor};
    /// let c = Tensor::cat(&[&tensor!([[1.0, 2.0]]), &tensor!([[3.0, 4.0]])], 0);
    /// assert_eq!(c.dims(), &[2, 2]);
    /// ```
    #[track_caller]
    pub fn cat(tensors: &[&Tensor], dim: i64) -> Tensor {
        cat_impl(tensors, dim, true)
    }

    /// Stacks along a new dim (`torch.stack(tensors, dim)`).
    ///
    /// ```
    /// use flambeau::{tensor, Tensor};
    /// let s = Tensor::stack(&[&tensor!([1.0, 2.0]), &tensor!([3.0, 4.0])], 1);
    /// assert_eq!(s.to_vec::<f32>(), vec![1.0, 3.0, 2.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn stack(tensors: &[&Tensor], dim: i64) -> Tensor {
        if tensors.is_empty() {
            panic!("stack expects a non-empty TensorList");
        }
        let first = tensors[0].dims();
        for (i, t) in tensors.iter().enumerate() {
            if t.dims() != first {
                panic!(
                    "stack expects each tensor to be equal size, but got {:?} at entry 0 and {:?} at entry {i}",
                    first,
                    t.dims()
                );
            }
        }
        let d = wrap_dim(dim, tensors[0].ndim() + 1);
        let expanded: Vec<Tensor> = tensors.iter().map(|t| t.unsqueeze_raw(d)).collect();
        let refs: Vec<&Tensor> = expanded.iter().collect();
        let out = cat_impl(&refs, d as i64, false);
        // The unsqueezed aliases carry no autograd state, so the node is attached here, with
        // edges to the original tensors.
        if needs_grad(tensors) {
            let backward = StackBackward0 {
                dim: d,
                sizes: vec![1; tensors.len()],
                stacked: true,
            };
            attach(&out, StackBackward0::NAME, tensors, Box::new(backward));
        }
        out
    }

    /// A narrowed alias without autograd (for writing into slices of fresh outputs).
    #[track_caller]
    pub(crate) fn narrow_raw(&self, dim: usize, start: usize, len: usize) -> Tensor {
        let mut layout = self.layout().clone();
        layout.offset += start * layout.strides[dim];
        layout.shape.0[dim] = len;
        self.alias_with_layout(layout)
    }

    /// An unsqueezed alias without autograd.
    #[track_caller]
    pub(crate) fn unsqueeze_raw(&self, dim: usize) -> Tensor {
        let mut layout = self.layout().clone();
        let stride = if dim < layout.ndim() {
            layout.strides[dim] * layout.dims()[dim]
        } else {
            1
        };
        layout.shape.0.insert(dim, 1);
        layout.strides.insert(dim, stride);
        self.alias_with_layout(layout)
    }
}
