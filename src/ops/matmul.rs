//! Matrix products: `mm`, `bmm`, `mv`, `dot`, `addmm`, and `matmul` with PyTorch's rules for
//! 1-D, 2-D, batched and broadcast operands.

use super::result_type;
use crate::autograd::{SavedOpt, SavedTensor, backward_fn, record};
use crate::shape::{Layout, Shape, broadcast_shapes};
use crate::tensor::Tensor;

/// Raw product of `a` (..., m, k) and `b` (..., k, n) with identical batch dims; with `init`
/// (already of the output's shape), the product is added to it, as BLAS's `beta = 1`.
#[track_caller]
fn matmul_raw(a: &Tensor, b: &Tensor, init: Option<&Tensor>) -> Tensor {
    let dtype = result_type(a, b);
    let (a, b) = (a.cast_raw(dtype), b.cast_raw(dtype));
    if !dtype.is_float() && dtype != crate::DType::I64 {
        panic!(
            "\"addmm_impl_cpu_\" not implemented for '{}'",
            dtype.scalar_name()
        );
    }
    let nd = a.ndim();
    let mut out_shape = a.shape().clone();
    out_shape.0[nd - 1] = b.dims()[nd - 1];
    let storage = match init {
        Some(c) => {
            let c = c.cast_raw(dtype);
            let mut locked = crate::storage::lock(&[], &[a.cell(), b.cell(), c.cell()]);
            let r = locked.reads();
            r[0].matmul(a.layout(), r[1], b.layout(), Some((r[2], c.layout())))
        }
        None => {
            let pair = crate::storage::ReadPair::new(a.cell(), b.cell());
            let (x, y) = pair.get();
            x.matmul(a.layout(), y, b.layout(), None)
        }
    };
    Tensor::from_storage(storage, out_shape)
}

/// Whether a matrix is stored column-major (a transposed contiguous matrix, such as `weight.t()`).
#[track_caller]
fn col_major(t: &Tensor) -> bool {
    t.ndim() == 2
        && t.layout().strides[0] == 1
        && t.layout().strides[1] == t.dims()[0]
        && t.dims()[0] > 1
}

/// ATen's `mm_mat1_backward`: the gradient of `mat1` in `mat1`'s own layout, so that a
/// column-major input (a transposed weight) gets a gradient that is contiguous once transposed
/// back, with no copy.
#[track_caller]
fn mm_mat1_backward(grad: &Tensor, mat2: &Tensor, mat1_col_major: bool) -> Tensor {
    if mat1_col_major {
        mat2.mm(&grad.t()).t()
    } else {
        grad.mm(&mat2.t())
    }
}

/// ATen's `mm_mat2_backward`.
#[track_caller]
fn mm_mat2_backward(grad: &Tensor, mat1: &Tensor, mat2_col_major: bool) -> Tensor {
    if mat2_col_major {
        grad.t().mm(mat1).t()
    } else {
        mat1.t().mm(grad)
    }
}

backward_fn! {
    struct MmBackward0 { a: Option<SavedTensor>, b: Option<SavedTensor>, a_cm: bool, b_cm: bool }
    saved [a, b]
    fn backward(&mut self, grad, needs) {
        let ga = needs[0].then(|| mm_mat1_backward(grad, &self.b.get(), self.a_cm));
        let gb = needs[1].then(|| mm_mat2_backward(grad, &self.a.get(), self.b_cm));
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    struct BmmBackward0 { a: Option<SavedTensor>, b: Option<SavedTensor> }
    saved [a, b]
    fn backward(&mut self, grad, needs) {
        let ga = needs[0].then(|| grad.bmm(&self.b.get().transpose(1, 2)));
        let gb = needs[1].then(|| self.a.get().transpose(1, 2).bmm(grad));
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    struct MvBackward0 { a: Option<SavedTensor>, v: Option<SavedTensor> }
    saved [a, v]
    fn backward(&mut self, grad, needs) {
        let ga = needs[0].then(|| grad.unsqueeze(1).mul(self.v.get().unsqueeze(0)));
        let gv = needs[1].then(|| self.a.get().t().mv(grad));
        smallvec::smallvec![ga, gv]
    }
}

backward_fn! {
    struct DotBackward0 { a: Option<SavedTensor>, b: Option<SavedTensor> }
    saved [a, b]
    fn backward(&mut self, grad, needs) {
        let ga = needs[0].then(|| grad.mul(self.b.get()));
        let gb = needs[1].then(|| grad.mul(self.a.get()));
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    /// `bias + mat1 · mat2`: the bias's gradient is summed back to its shape by the engine.
    struct AddmmBackward0 { a: Option<SavedTensor>, b: Option<SavedTensor>, a_cm: bool, b_cm: bool }
    saved [a, b]
    fn backward(&mut self, grad, needs) {
        let gbias = needs[0].then(|| grad.clone());
        let ga = needs[1].then(|| mm_mat1_backward(grad, &self.b.get(), self.a_cm));
        let gb = needs[2].then(|| mm_mat2_backward(grad, &self.a.get(), self.b_cm));
        smallvec::smallvec![gbias, ga, gb]
    }
}

impl Tensor {
    /// The product of two matrices (`torch.mm`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let a = tensor!([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(a.mm(&a).to_vec::<f32>(), vec![7.0, 10.0, 15.0, 22.0]);
    /// ```
    #[track_caller]
    pub fn mm(&self, other: &Tensor) -> Tensor {
        check_mm(self, other, "mm");
        check_mm_dtypes(self, other);
        let out = matmul_raw(self, other, None);
        let (ra, rb) = (self.requires_grad(), other.requires_grad());
        record(out, &[self, other], |_| MmBackward0 {
            a: SavedTensor::input_if(self, rb),
            b: SavedTensor::input_if(other, ra),
            a_cm: col_major(self),
            b_cm: col_major(other),
        })
    }

    /// Batched matrix product of two 3-D tensors with the same batch size (`torch.bmm`).
    #[track_caller]
    pub fn bmm(&self, other: &Tensor) -> Tensor {
        if self.ndim() != 3 {
            panic!("batch1 must be a 3D tensor");
        }
        if other.ndim() != 3 {
            panic!("batch2 must be a 3D tensor");
        }
        let (b, _, k) = (self.dims()[0], self.dims()[1], self.dims()[2]);
        if other.dims()[0] != b || other.dims()[1] != k {
            panic!(
                "Expected size for first two dimensions of batch2 tensor to be: [{b}, {k}] but got: [{}, {}].",
                other.dims()[0],
                other.dims()[1]
            );
        }
        if self.dtype() != other.dtype() {
            panic!(
                "expected scalar type {} but found {}",
                self.dtype().scalar_name(),
                other.dtype().scalar_name()
            );
        }
        let out = matmul_raw(self, other, None);
        let (ra, rb) = (self.requires_grad(), other.requires_grad());
        record(out, &[self, other], |_| BmmBackward0 {
            a: SavedTensor::input_if(self, rb),
            b: SavedTensor::input_if(other, ra),
        })
    }

    /// Matrix-vector product (`torch.mv`).
    #[track_caller]
    pub fn mv(&self, vec: &Tensor) -> Tensor {
        if self.ndim() != 2 || vec.ndim() != 1 || self.dims()[1] != vec.dims()[0] {
            panic!(
                "size mismatch, got input ({}), mat ({}), vec ({})",
                self.dims().first().copied().unwrap_or(0),
                self.dims()
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("x"),
                vec.dims()
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("x")
            );
        }
        if self.dtype() != vec.dtype() {
            panic!(
                "addmv input tensors must have the same dtype, but got {}, {}, and {}",
                vec.dtype().scalar_name(),
                self.dtype().scalar_name(),
                vec.dtype().scalar_name()
            );
        }
        let out = matmul_raw(self, &vec.unsqueeze_raw(1), None).reshape_raw(&[self.dims()[0]]);
        let (ra, rb) = (self.requires_grad(), vec.requires_grad());
        record(out, &[self, vec], |_| MvBackward0 {
            a: SavedTensor::input_if(self, rb),
            v: SavedTensor::input_if(vec, ra),
        })
    }

    /// Dot product of two 1-D tensors (`torch.dot`).
    #[track_caller]
    pub fn dot(&self, other: &Tensor) -> Tensor {
        if self.ndim() != 1 || other.ndim() != 1 {
            panic!(
                "1D tensors expected, but got {}D and {}D tensors",
                self.ndim(),
                other.ndim()
            );
        }
        if self.numel() != other.numel() {
            panic!(
                "inconsistent tensor size, expected tensor [{}] and src [{}] to have the same number of elements, but got {} and {} elements respectively",
                self.numel(),
                other.numel(),
                self.numel(),
                other.numel()
            );
        }
        if self.dtype() != other.dtype() {
            panic!(
                "dot : expected both vectors to have same dtype, but found {} and {}",
                self.dtype().scalar_name(),
                other.dtype().scalar_name()
            );
        }
        let out =
            matmul_raw(&self.unsqueeze_raw(0), &other.unsqueeze_raw(1), None).reshape_raw(&[]);
        let (ra, rb) = (self.requires_grad(), other.requires_grad());
        record(out, &[self, other], |_| DotBackward0 {
            a: SavedTensor::input_if(self, rb),
            b: SavedTensor::input_if(other, ra),
        })
    }

    /// `bias + mat1 · mat2`, with `bias` broadcast (`torch.addmm`): what `nn.Linear` computes.
    #[track_caller]
    pub fn addmm(bias: &Tensor, mat1: &Tensor, mat2: &Tensor) -> Tensor {
        // The bias, broadcast to the output, is the starting value the product is added to.
        check_mm(mat1, mat2, "addmm");
        check_addmm_dtypes(bias, mat1, mat2);
        let (m, n) = (mat1.dims()[0], mat2.dims()[1]);
        let out = crate::autograd::no_grad(|| {
            let init = bias.expand([m, n]);
            matmul_raw(mat1, mat2, Some(&init))
        });
        let (ra, rb) = (mat1.requires_grad(), mat2.requires_grad());
        record(out, &[bias, mat1, mat2], |_| AddmmBackward0 {
            a: SavedTensor::input_if(mat1, rb),
            b: SavedTensor::input_if(mat2, ra),
            a_cm: col_major(mat1),
            b_cm: col_major(mat2),
        })
    }

    /// The matrix product with PyTorch's rules (`torch.matmul`, Python's `@`): 1-D operands are
    /// promoted to matrices and the added dim removed again, leading dims broadcast as batches.
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let a = Tensor::ones([2, 1, 3, 4]);
    /// let b = Tensor::ones([3, 4, 5]);
    /// assert_eq!(a.matmul(&b).dims(), &[2, 3, 3, 5]);
    /// assert_eq!(Tensor::ones([4]).matmul(&Tensor::ones([4, 5])).dims(), &[5]);
    /// assert_eq!(Tensor::ones([4]).matmul(&Tensor::ones([4])).ndim(), 0);
    /// ```
    #[track_caller]
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        let (d1, d2) = (self.ndim(), other.ndim());
        if d1 == 0 || d2 == 0 {
            panic!("both arguments to matmul need to be at least 1D, but they are {d1}D and {d2}D");
        }
        match (d1, d2) {
            (1, 1) => self.dot(other),
            (2, 1) => self.mv(other),
            (1, 2) => self.unsqueeze(0).mm(other).squeeze_matmul_row(),
            (2, 2) => self.mm(other),
            (_, 1) | (_, 2) if d1 >= 3 => {
                // Fold the batch into the rows: (..., n, k) -> (-1, k), one mm, unfold.
                let k = self.dims()[d1 - 1];
                let rows: usize = self.dims()[..d1 - 1].iter().product();
                let t2 = if d2 == 1 {
                    other.unsqueeze(1)
                } else {
                    other.clone()
                };
                let out = self.reshape([rows, k]).mm(&t2);
                let mut shape: Vec<usize> = self.dims()[..d1 - 1].to_vec();
                if d2 == 2 {
                    shape.push(other.dims()[1]);
                }
                out.unsafe_view(&shape)
            }
            _ => {
                let a = if d1 == 1 {
                    self.unsqueeze(0)
                } else {
                    self.clone()
                };
                let b = if d2 == 1 {
                    other.unsqueeze(1)
                } else {
                    other.clone()
                };
                let (na, nb) = (a.ndim(), b.ndim());
                let (n, k1) = (a.dims()[na - 2], a.dims()[na - 1]);
                let (k2, m) = (b.dims()[nb - 2], b.dims()[nb - 1]);
                let batch = broadcast_shapes(&a.dims()[..na - 2], &b.dims()[..nb - 2]);
                if k1 != k2 {
                    let bsz: usize = batch.numel();
                    panic!(
                        "Expected size for first two dimensions of batch2 tensor to be: [{bsz}, {k1}] but got: [{bsz}, {k2}]."
                    );
                }
                let bsz = batch.numel();
                let mut ea: Vec<usize> = batch.dims().to_vec();
                ea.extend([n, k1]);
                let mut eb: Vec<usize> = batch.dims().to_vec();
                eb.extend([k2, m]);
                let a3 = a.expand(&ea).reshape([bsz, n, k1]);
                let b3 = b.expand(&eb).reshape([bsz, k2, m]);
                let out = a3.bmm(&b3);
                let mut shape: Vec<usize> = batch.dims().to_vec();
                if d1 > 1 {
                    shape.push(n);
                }
                if d2 > 1 {
                    shape.push(m);
                }
                out.unsafe_view(&shape)
            }
        }
    }

    /// `input · weightᵀ + bias` (`F.linear`): the affine map of `nn.Linear`, with `weight` of
    /// shape (out_features, in_features). A 2-D input with a bias is one `addmm`, as in PyTorch.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let x = tensor!([[1.0, 2.0]]);
    /// let w = tensor!([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]);
    /// let b = tensor!([0.5, 0.5, 0.5]);
    /// assert_eq!(x.linear(&w, Some(&b)).to_vec::<f32>(), vec![1.5, 2.5, 3.5]);
    /// ```
    #[track_caller]
    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Tensor {
        check_linear(self, weight, bias);
        match (self.ndim(), bias) {
            (2, Some(b)) => Tensor::addmm(b, self, &weight.t()),
            (d, Some(b)) if d > 2 => {
                // Fold the leading dims into rows, one addmm, unfold (as ATen's linear does).
                let k = self.dims()[d - 1];
                let rows: usize = self.dims()[..d - 1].iter().product();
                let out = Tensor::addmm(b, &self.reshape([rows, k]), &weight.t());
                let mut shape = self.dims()[..d - 1].to_vec();
                shape.push(weight.dims()[0]);
                out.unsafe_view(&shape)
            }
            (_, Some(b)) => self.matmul(&weight.t()).add(b),
            (_, None) => self.matmul(&weight.t()),
        }
    }

    /// A contiguous alias with another shape, without autograd.
    #[track_caller]
    pub(crate) fn reshape_raw(&self, dims: &[usize]) -> Tensor {
        let t = self.contiguous_raw();
        t.alias_with_layout(Layout {
            shape: Shape::new(dims),
            strides: Shape::new(dims).contiguous_strides(),
            offset: t.layout().offset,
        })
    }
}

/// `F.linear`'s checks with the messages PyTorch gives, which name the kernel it reaches:
/// `addmm` with a bias, `mm` without.
#[track_caller]
fn check_linear(input: &Tensor, weight: &Tensor, bias: Option<&Tensor>) {
    if input.ndim() == 0 || weight.ndim() != 2 {
        return;
    }
    let op = if bias.is_some() { "addmm" } else { "mm" };
    let d = input.ndim();
    let k = input.dims()[d - 1];
    let rows: usize = input.dims()[..d - 1].iter().product();
    if weight.dims()[1] != k {
        panic!(
            "{op}: mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and {}x{})",
            weight.dims()[1],
            weight.dims()[0]
        );
    }
    match bias {
        Some(b) => check_addmm_dtypes(b, input, weight),
        None => check_mm_dtypes(input, weight),
    }
}

/// The shape checks of `torch.mm` / `torch.addmm`, with PyTorch's messages.
#[track_caller]
fn check_mm(mat1: &Tensor, mat2: &Tensor, op: &str) {
    if mat1.ndim() != 2 {
        panic!("self must be a matrix");
    }
    if mat2.ndim() != 2 {
        panic!("{op}: mat2 must be a matrix, got {}-D tensor", mat2.ndim());
    }
    if mat1.dims()[1] != mat2.dims()[0] {
        panic!(
            "{op}: mat1 and mat2 shapes cannot be multiplied ({}x{} and {}x{})",
            mat1.dims()[0],
            mat1.dims()[1],
            mat2.dims()[0],
            mat2.dims()[1]
        );
    }
}

/// `torch.addmm`'s dtype checks in PyTorch's order: the addend against `mat2` first, then
/// `mat1` against `mat2`.
#[track_caller]
fn check_addmm_dtypes(bias: &Tensor, mat1: &Tensor, mat2: &Tensor) {
    let name = |t: &Tensor| t.dtype().scalar_name();
    if bias.dtype() != mat2.dtype() {
        panic!(
            "self and mat2 must have the same dtype, but got {} and {}",
            name(bias),
            name(mat2)
        );
    }
    if mat1.dtype() != mat2.dtype() {
        panic!(
            "mat1 and mat2 must have the same dtype, but got {} and {}",
            name(mat1),
            name(mat2)
        );
    }
}

/// `torch.mm`'s dtype check, with PyTorch's message.
#[track_caller]
fn check_mm_dtypes(a: &Tensor, b: &Tensor) {
    if a.dtype() != b.dtype() {
        panic!(
            "expected m1 and m2 to have the same dtype, but got: {} != {}",
            a.dtype().scalar_name().to_lowercase(),
            b.dtype().scalar_name().to_lowercase()
        );
    }
}
