//! Normalization layers' texts against PyTorch 2.15: module reprs, error messages, and the
//! location misuse panics report (the caller's line, not a file under src/).

mod common;

use common::panic_message;
use flambeau::nn::functional as F;
use flambeau::nn::{
    BatchNorm1d, BatchNorm2d, BatchNormOptions, Forward, GroupNorm, InstanceNorm1d, InstanceNorm2d,
    InstanceNorm3d, InstanceNormOptions, LayerNorm, Module, RMSNorm,
};
use flambeau::{DType, Tensor};

const F64: DType = DType::F64;

#[test]
fn reprs_match_pytorch() {
    let cases: Vec<(Box<dyn Module>, &str)> = vec![
        (
            Box::new(BatchNorm2d::new(3)),
            "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
        ),
        (
            Box::new(BatchNorm1d::with_options(
                3,
                BatchNormOptions {
                    eps: 1e-3,
                    momentum: None,
                    affine: false,
                    track_running_stats: false,
                    bias: true,
                },
            )),
            "BatchNorm1d(3, eps=0.001, momentum=None, affine=False, bias=False, track_running_stats=False)",
        ),
        (
            Box::new(GroupNorm::new(2, 4)),
            "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)",
        ),
        (
            Box::new(GroupNorm::with_options(2, 4, 0.1, false)),
            "GroupNorm(2, 4, eps=0.1, affine=False, bias=False)",
        ),
        (
            Box::new(InstanceNorm1d::new(3)),
            "InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)",
        ),
        (
            Box::new(InstanceNorm2d::with_options(
                3,
                InstanceNormOptions {
                    affine: true,
                    track_running_stats: true,
                    momentum: None,
                    ..Default::default()
                },
            )),
            "InstanceNorm2d(3, eps=1e-05, momentum=None, affine=True, bias=True, track_running_stats=True)",
        ),
        (
            Box::new(RMSNorm::new(&[6])),
            "RMSNorm((6,), eps=None, elementwise_affine=True)",
        ),
        (
            Box::new(RMSNorm::with_options(&[2, 3], Some(1e-6), false)),
            "RMSNorm((2, 3), eps=1e-06, elementwise_affine=False)",
        ),
        (
            Box::new(LayerNorm::with_bias(&[6], 1e-5, true, false)),
            "LayerNorm((6,), eps=1e-05, elementwise_affine=True, bias=False)",
        ),
        (
            Box::new(LayerNorm::with_bias(&[2, 3], 1e-5, false, false)),
            "LayerNorm((2, 3), eps=1e-05, elementwise_affine=False, bias=False)",
        ),
    ];
    for (m, want) in cases {
        assert_eq!(m.repr(), want);
    }
}

/// A call that must panic, and PyTorch's message.
type ErrorCase = (Box<dyn FnOnce()>, &'static str);

#[test]
fn error_messages_match_pytorch() {
    let bn = |x: Tensor, rm: Option<Tensor>, rv: Option<Tensor>, training: bool| {
        move || {
            F::batch_norm(
                &x,
                rm.as_ref(),
                rv.as_ref(),
                None,
                None,
                training,
                0.1,
                1e-5,
            );
        }
    };
    let z = |n: usize| Some(Tensor::zeros([n]));
    let cases: Vec<ErrorCase> = vec![
        (
            Box::new(bn(Tensor::randn([1, 4]), z(4), z(4), true)),
            "Expected more than 1 value per channel when training, got input size torch.Size([1, 4])",
        ),
        (
            Box::new(bn(Tensor::randn([1, 4, 1]), None, None, true)),
            "Expected more than 1 value per channel when training, got input size torch.Size([1, 4, 1])",
        ),
        (
            Box::new(bn(Tensor::randn([3, 4]), z(3), z(3), true)),
            "running_mean should contain 4 elements not 3",
        ),
        (
            Box::new(bn(Tensor::randn([3, 4]), z(4), z(3), false)),
            "running_var should contain 4 elements not 3",
        ),
        (
            Box::new(bn(Tensor::randn([3, 4]), None, z(4), false)),
            "running_mean must be defined in evaluation mode",
        ),
        (
            Box::new(bn(Tensor::randn([3, 4]), z(4), None, true)),
            "running_mean and running_var must either both be None or neither be None",
        ),
        (
            Box::new(|| {
                F::batch_norm(
                    &Tensor::randn([3, 4]),
                    None,
                    None,
                    Some(&Tensor::ones([3])),
                    None,
                    false,
                    0.1,
                    1e-5,
                );
            }),
            "weight should contain 4 elements not 3",
        ),
        (
            Box::new(|| {
                F::batch_norm(
                    &Tensor::randn([3, 4]),
                    None,
                    None,
                    None,
                    None,
                    true,
                    0.1,
                    0.0,
                );
            }),
            "batch_norm eps must be positive during training, but got 0.0",
        ),
        (
            Box::new(|| {
                F::batch_norm(
                    &Tensor::ones([3, 4]).to_dtype(DType::I64),
                    None,
                    None,
                    None,
                    None,
                    true,
                    0.1,
                    1e-5,
                );
            }),
            "\"batch_norm\" not implemented for 'Long'",
        ),
        (
            Box::new(|| {
                BatchNorm1d::new(4).forward(&Tensor::randn([2, 4, 3, 3]));
            }),
            "expected 2D or 3D input (got 4D input)",
        ),
        (
            Box::new(|| {
                BatchNorm2d::new(4).forward(&Tensor::randn([2, 4, 3]));
            }),
            "expected 4D input (got 3D input)",
        ),
        (
            Box::new(|| {
                BatchNorm2d::new(4).forward(&Tensor::randn([2, 3, 3, 3]));
            }),
            "running_mean should contain 3 elements not 4",
        ),
        (
            Box::new(|| {
                BatchNorm1d::new(4).forward(&Tensor::randn([1, 4]));
            }),
            "Expected more than 1 value per channel when training, got input size torch.Size([1, 4])",
        ),
        (
            Box::new(|| {
                GroupNorm::new(3, 4);
            }),
            "num_channels (4) must be divisible by num_groups (3)",
        ),
        (
            Box::new(|| {
                F::group_norm(&Tensor::randn([2, 4, 3]), 3, None, None, 1e-5);
            }),
            "Expected number of channels in input to be divisible by num_groups, but got input of shape [2, 4, 3] and num_groups=3",
        ),
        (
            Box::new(|| {
                F::group_norm(
                    &Tensor::randn([2, 4, 3]),
                    2,
                    Some(&Tensor::ones([3])),
                    None,
                    1e-5,
                );
            }),
            "Expected weight to be a vector of size equal to the number of channels in input, but got weight of shape [3] and input of shape [2, 4, 3]",
        ),
        (
            Box::new(|| {
                F::group_norm(&Tensor::randn([4]), 2, None, None, 1e-5);
            }),
            "Expected at least 2 dimensions for input tensor but received 1",
        ),
        (
            Box::new(|| {
                F::group_norm(&Tensor::randn([1, 2]), 2, None, None, 1e-5);
            }),
            "Expected more than 1 value per channel when training, got input size [1, 2]",
        ),
        (
            Box::new(|| {
                F::instance_norm(
                    &Tensor::randn([2, 3]),
                    None,
                    None,
                    None,
                    None,
                    true,
                    0.1,
                    1e-5,
                );
            }),
            "Expected more than 1 spatial element when training, got input size torch.Size([2, 3])",
        ),
        (
            Box::new(|| {
                F::instance_norm(
                    &Tensor::randn([2, 3, 4]),
                    None,
                    None,
                    None,
                    None,
                    false,
                    0.1,
                    1e-5,
                );
            }),
            "Expected running_mean and running_var to be defined when use_input_stats is false",
        ),
        (
            Box::new(|| {
                let (rm, rv) = (Tensor::zeros([2]), Tensor::ones([3]));
                F::instance_norm(
                    &Tensor::randn([2, 3, 4]),
                    Some(&rm),
                    Some(&rv),
                    None,
                    None,
                    true,
                    0.1,
                    1e-5,
                );
            }),
            "running_mean should contain 6 elements not 4",
        ),
        (
            Box::new(|| {
                InstanceNorm1d::new(3).forward(&Tensor::randn([2, 3, 4, 5]));
            }),
            "expected 2D or 3D input (got 4D input)",
        ),
        (
            Box::new(|| {
                InstanceNorm2d::new(3).forward(&Tensor::randn([3, 4]));
            }),
            "expected 3D or 4D input (got 2D input)",
        ),
        (
            Box::new(|| {
                InstanceNorm3d::new(3).forward(&Tensor::randn([3, 4, 4]));
            }),
            "expected 4D or 5D input (got 3D input)",
        ),
        (
            Box::new(|| {
                let affine = InstanceNormOptions {
                    affine: true,
                    ..Default::default()
                };
                InstanceNorm2d::with_options(3, affine).forward(&Tensor::randn([2, 4, 4, 5]));
            }),
            "expected input's size at dim=1 to match num_features (3), but got: 4.",
        ),
        (
            Box::new(|| {
                F::rms_norm(&Tensor::randn([2, 5]), &[6], None, None);
            }),
            "Given normalized_shape=[6], expected input with shape [*6], but got input of size[2, 5]",
        ),
        (
            Box::new(|| {
                F::rms_norm(&Tensor::randn([2, 6]), &[6], Some(&Tensor::ones([5])), None);
            }),
            "Expected weight to be of same shape as normalized_shape, but got weight of shape [5] and normalized_shape = [6]",
        ),
        (
            Box::new(|| {
                LayerNorm::new(&[6]).forward(&Tensor::randn([2, 5]));
            }),
            "Given normalized_shape=[6], expected input with shape [*, 6], but got input of size[2, 5]",
        ),
        (
            Box::new(|| {
                F::layer_norm(
                    &Tensor::randn([2, 6]),
                    &[6],
                    None,
                    Some(&Tensor::ones([5])),
                    1e-5,
                );
            }),
            "Expected bias to be of same shape as normalized_shape, but got bias of shape [5] and normalized_shape = [6]",
        ),
        (
            Box::new(|| {
                F::layer_norm(&Tensor::randn([2, 6]), &[], None, None, 1e-5);
            }),
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got normalized_shape = []",
        ),
        (
            Box::new(|| {
                let w = Tensor::ones([4]).to_dtype(F64);
                F::batch_norm(
                    &Tensor::randn([3, 4]),
                    None,
                    None,
                    Some(&w),
                    None,
                    true,
                    0.1,
                    1e-5,
                );
            }),
            "mixed dtype (CPU): expect parameter to have scalar type of Float",
        ),
        (
            Box::new(|| {
                let x = Tensor::randn([3, 4]).to_dtype(F64);
                let (rm, rv) = (Tensor::zeros([4]), Tensor::ones([4]));
                F::batch_norm(&x, Some(&rm), Some(&rv), None, None, false, 0.1, 1e-5);
            }),
            "mixed dtype (CPU): all inputs must share same datatype.",
        ),
    ];
    for (f, want) in cases {
        assert_eq!(panic_message(f), want);
    }
}

thread_local! {
    /// The file of the last panic on this thread, written by the capturing hook.
    static PANIC_FILE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn misuse_panics_point_at_the_caller() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let file = info.location().map(|l| l.file().to_string());
        PANIC_FILE.with(|f| *f.borrow_mut() = file);
    }));
    let cases: Vec<Box<dyn FnOnce()>> = vec![
        Box::new(|| {
            F::batch_norm(
                &Tensor::randn([1, 3]),
                None,
                None,
                None,
                None,
                true,
                0.1,
                1e-5,
            );
        }),
        Box::new(|| {
            F::batch_norm(
                &Tensor::randn([2, 3]),
                None,
                None,
                None,
                None,
                false,
                0.1,
                1e-5,
            );
        }),
        Box::new(|| {
            F::batch_norm(&Tensor::randn([3]), None, None, None, None, true, 0.1, 1e-5);
        }),
        Box::new(|| {
            BatchNorm2d::new(3).forward(&Tensor::randn([2, 3]));
        }),
        Box::new(|| {
            BatchNorm2d::new(3).forward(&Tensor::randn([2, 4, 2, 2]));
        }),
        Box::new(|| {
            InstanceNorm1d::new(3).forward(&Tensor::randn([2, 3, 1]));
        }),
        Box::new(|| {
            GroupNorm::new(2, 4).forward(&Tensor::randn([2, 6, 3]));
        }),
        Box::new(|| {
            GroupNorm::new(3, 4);
        }),
        Box::new(|| {
            RMSNorm::new(&[4]).forward(&Tensor::randn([2, 3]));
        }),
        Box::new(|| {
            LayerNorm::new(&[4]).forward(&Tensor::randn([2, 3]));
        }),
    ];
    let mut wrong = Vec::new();
    for (i, f) in cases.into_iter().enumerate() {
        PANIC_FILE.with(|f| *f.borrow_mut() = None);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let file = PANIC_FILE.with(|f| f.borrow_mut().take());
        if r.is_ok() || file.as_deref() != Some(file!()) {
            wrong.push((i, file));
        }
    }
    std::panic::set_hook(previous);
    assert!(wrong.is_empty(), "panics reported elsewhere: {wrong:?}");
}
