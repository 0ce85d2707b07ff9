//! Printing matches PyTorch's `repr` exactly (expected strings produced by PyTorch 2.15).

use flambeau::{DType, Tensor, tensor};

#[test]
fn scalar_f32() {
    let t = tensor!(3.5);
    assert_eq!(format!("{t}"), "tensor(3.5000)");
}

#[test]
fn scalar_int() {
    let t = tensor!(7);
    assert_eq!(format!("{t}"), "tensor(7)");
}

#[test]
fn ints() {
    let t = tensor!([1, -20, 300]);
    assert_eq!(format!("{t}"), "tensor([  1, -20, 300])");
}

#[test]
fn int_valued_floats() {
    let t = tensor!([1., 2., -3.]);
    assert_eq!(format!("{t}"), "tensor([ 1.,  2., -3.])");
}

#[test]
fn mixed_scales_go_scientific() {
    let t = tensor!([[1.5, -2.25], [100.0, 0.001]]);
    assert_eq!(
        format!("{t}"),
        "tensor([[ 1.5000e+00, -2.2500e+00],\n        [ 1.0000e+02,  1.0000e-03]])"
    );
}

#[test]
fn small_values() {
    let t = tensor!([1e-5, 2e-5]);
    assert_eq!(format!("{t}"), "tensor([1.0000e-05, 2.0000e-05])");
}

#[test]
fn big_values() {
    let t = tensor!([1e9, 1.0]);
    assert_eq!(format!("{t}"), "tensor([1.0000e+09, 1.0000e+00])");
}

#[test]
fn float64_suffix() {
    let t = tensor!([0.1, 0.2], dtype = DType::F64);
    assert_eq!(
        format!("{t}"),
        "tensor([0.1000, 0.2000], dtype=torch.float64)"
    );
}

#[test]
fn bools() {
    let t = tensor!([[true, false], [false, true]]);
    assert_eq!(
        format!("{t}"),
        "tensor([[ True, False],\n        [False,  True]])"
    );
}

#[test]
fn empty() {
    let t = Tensor::zeros(0);
    assert_eq!(format!("{t}"), "tensor([])");
}

#[test]
fn empty_2d() {
    let t = Tensor::zeros([2, 0]);
    assert_eq!(format!("{t}"), "tensor([], size=(2, 0))");
}

#[test]
fn empty_int64() {
    let t = Tensor::zeros_dtype(0, DType::I64);
    assert_eq!(format!("{t}"), "tensor([], dtype=torch.int64)");
}

#[test]
fn nan_and_inf() {
    let t = tensor!([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1.5]);
    assert_eq!(format!("{t}"), "tensor([   nan,    inf,   -inf, 1.5000])");
}

#[test]
fn zeros() {
    let t = Tensor::zeros([2, 3]);
    assert_eq!(
        format!("{t}"),
        "tensor([[0., 0., 0.],\n        [0., 0., 0.]])"
    );
}

#[test]
fn negative_zero() {
    let t = tensor!([-0.0, 1.0]);
    assert_eq!(format!("{t}"), "tensor([-0., 1.])");
}

#[test]
fn wrapped_row() {
    let t = Tensor::arange_dtype(0, 30, 1, DType::F32) / 7;
    assert_eq!(
        format!("{t}"),
        "tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,\n        1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.0000, 2.1429, 2.2857, 2.4286,\n        2.5714, 2.7143, 2.8571, 3.0000, 3.1429, 3.2857, 3.4286, 3.5714, 3.7143,\n        3.8571, 4.0000, 4.1429])"
    );
}

#[test]
fn three_dims() {
    let t = Tensor::arange(0, 24, 1).reshape([2, 3, 4]);
    assert_eq!(
        format!("{t}"),
        "tensor([[[ 0,  1,  2,  3],\n         [ 4,  5,  6,  7],\n         [ 8,  9, 10, 11]],\n\n        [[12, 13, 14, 15],\n         [16, 17, 18, 19],\n         [20, 21, 22, 23]]])"
    );
}

#[test]
fn summarised_2d() {
    let t = Tensor::arange(0.0, 2000.0, 1.0).reshape([2, 1000]);
    assert_eq!(
        format!("{t}"),
        "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.9700e+02, 9.9800e+02,\n         9.9900e+02],\n        [1.0000e+03, 1.0010e+03, 1.0020e+03,  ..., 1.9970e+03, 1.9980e+03,\n         1.9990e+03]])"
    );
}

#[test]
fn summarised_3d() {
    let t = Tensor::arange(0, 3000, 1).reshape([10, 10, 30]);
    assert_eq!(
        format!("{t}"),
        "tensor([[[   0,    1,    2,  ...,   27,   28,   29],\n         [  30,   31,   32,  ...,   57,   58,   59],\n         [  60,   61,   62,  ...,   87,   88,   89],\n         ...,\n         [ 210,  211,  212,  ...,  237,  238,  239],\n         [ 240,  241,  242,  ...,  267,  268,  269],\n         [ 270,  271,  272,  ...,  297,  298,  299]],\n\n        [[ 300,  301,  302,  ...,  327,  328,  329],\n         [ 330,  331,  332,  ...,  357,  358,  359],\n         [ 360,  361,  362,  ...,  387,  388,  389],\n         ...,\n         [ 510,  511,  512,  ...,  537,  538,  539],\n         [ 540,  541,  542,  ...,  567,  568,  569],\n         [ 570,  571,  572,  ...,  597,  598,  599]],\n\n        [[ 600,  601,  602,  ...,  627,  628,  629],\n         [ 630,  631,  632,  ...,  657,  658,  659],\n         [ 660,  661,  662,  ...,  687,  688,  689],\n         ...,\n         [ 810,  811,  812,  ...,  837,  838,  839],\n         [ 840,  841,  842,  ...,  867,  868,  869],\n         [ 870,  871,  872,  ...,  897,  898,  899]],\n\n        ...,\n\n        [[2100, 2101, 2102,  ..., 2127, 2128, 2129],\n         [2130, 2131, 2132,  ..., 2157, 2158, 2159],\n         [2160, 2161, 2162,  ..., 2187, 2188, 2189],\n         ...,\n         [2310, 2311, 2312,  ..., 2337, 2338, 2339],\n         [2340, 2341, 2342,  ..., 2367, 2368, 2369],\n         [2370, 2371, 2372,  ..., 2397, 2398, 2399]],\n\n        [[2400, 2401, 2402,  ..., 2427, 2428, 2429],\n         [2430, 2431, 2432,  ..., 2457, 2458, 2459],\n         [2460, 2461, 2462,  ..., 2487, 2488, 2489],\n         ...,\n         [2610, 2611, 2612,  ..., 2637, 2638, 2639],\n         [2640, 2641, 2642,  ..., 2667, 2668, 2669],\n         [2670, 2671, 2672,  ..., 2697, 2698, 2699]],\n\n        [[2700, 2701, 2702,  ..., 2727, 2728, 2729],\n         [2730, 2731, 2732,  ..., 2757, 2758, 2759],\n         [2760, 2761, 2762,  ..., 2787, 2788, 2789],\n         ...,\n         [2910, 2911, 2912,  ..., 2937, 2938, 2939],\n         [2940, 2941, 2942,  ..., 2967, 2968, 2969],\n         [2970, 2971, 2972,  ..., 2997, 2998, 2999]]])"
    );
}

#[test]
fn requires_grad() {
    let t = tensor!([[-0.1188]]).requires_grad_(true);
    assert_eq!(format!("{t}"), "tensor([[-0.1188]], requires_grad=True)");
}

#[test]
fn grad_fn() {
    let t = tensor!([1.0, 2.0]).requires_grad_(true) * 2;
    assert_eq!(format!("{t}"), "tensor([2., 4.], grad_fn=<MulBackward0>)");
}
