//! `+ - * /` and unary `-` between tensors and numbers, owned or borrowed, on either side, and
//! the compound assignments (`+=`, ...) as PyTorch's in-place operations.
//!
//! Numbers are `f64` or `i32`, so that literals like `0.5` and `2` need no annotation; other
//! number types go through the methods (`t.mul(x_f32)`).
//!
//! ```
//! use flambeau::{manual_seed, randn, Tensor};
//! manual_seed(0);
//! let x = Tensor::arange(0.0, 11.0, 1.0);
//! let y = 0.5 * &x + 30.0 + randn([11]);
//! let z = &y - &x * 2 - 1.0 / (&x + 1);
//! assert_eq!(z.dims(), &[11]);
//! ```

use crate::tensor::Tensor;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

macro_rules! tensor_tensor_op {
    ($trait:ident, $method:ident, $call:ident) => {
        impl $trait<Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::$call(&self, &rhs)
            }
        }
        impl $trait<&Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$call(&self, rhs)
            }
        }
        impl $trait<Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::$call(self, &rhs)
            }
        }
        impl $trait<&Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$call(self, rhs)
            }
        }
    };
}

tensor_tensor_op!(Add, add, add);
tensor_tensor_op!(Sub, sub, sub);
tensor_tensor_op!(Mul, mul, mul);
tensor_tensor_op!(Div, div, div);

macro_rules! tensor_scalar_op {
    ($trait:ident, $method:ident, $call:ident, $rcall:expr, $($s:ty),*) => {$(
        impl $trait<$s> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: $s) -> Tensor {
                Tensor::$call(&self, rhs)
            }
        }
        impl $trait<$s> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: $s) -> Tensor {
                Tensor::$call(self, rhs)
            }
        }
        impl $trait<Tensor> for $s {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                $rcall(&rhs, self)
            }
        }
        impl $trait<&Tensor> for $s {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                $rcall(rhs, self)
            }
        }
    )*};
}

tensor_scalar_op!(Add, add, add, |t: &Tensor, s| t.add(s), f64, i32);
tensor_scalar_op!(Sub, sub, sub, |t: &Tensor, s| t.rsub(s), f64, i32);
tensor_scalar_op!(Mul, mul, mul, |t: &Tensor, s| t.mul(s), f64, i32);
tensor_scalar_op!(Div, div, div, |t: &Tensor, s| t.rdiv(s), f64, i32);

impl Neg for Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        Tensor::neg(&self)
    }
}

impl Neg for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}

macro_rules! assign_op {
    ($trait:ident, $method:ident, $call:ident) => {
        impl $trait<&Tensor> for Tensor {
            #[track_caller]
            fn $method(&mut self, rhs: &Tensor) {
                self.$call(rhs);
            }
        }
        impl $trait<Tensor> for Tensor {
            #[track_caller]
            fn $method(&mut self, rhs: Tensor) {
                self.$call(&rhs);
            }
        }
        impl $trait<f64> for Tensor {
            #[track_caller]
            fn $method(&mut self, rhs: f64) {
                self.$call(rhs);
            }
        }
        impl $trait<i32> for Tensor {
            #[track_caller]
            fn $method(&mut self, rhs: i32) {
                self.$call(rhs);
            }
        }
    };
}

assign_op!(AddAssign, add_assign, add_);
assign_op!(SubAssign, sub_assign, sub_);
assign_op!(MulAssign, mul_assign, mul_);
assign_op!(DivAssign, div_assign, div_);
