//! `torch.nn.utils.rnn`: batching sequences of different lengths.

use crate::tensor::Tensor;

/// Stacks sequences of different lengths into one padded tensor
/// (`pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side='right')`).
/// Each sequence is (L_i, *) with the same trailing dims; the result is (max L, B, *), or
/// (B, max L, *) with `batch_first`, in the first sequence's dtype, filled with
/// `padding_value` after each sequence (`padding_side = "right"`) or before it (`"left"`).
/// Differentiable in the sequences (each is copied into its slot, as ATen does).
///
/// ```
/// use flambeau::{nn::utils::rnn::pad_sequence, tensor};
/// let a = tensor!([1.0, 2.0, 3.0]);
/// let b = tensor!([4.0]);
/// let p = pad_sequence(&[a.clone(), b.clone()], true, -1.0, "right");
/// assert_eq!(p.to_vec::<f32>(), vec![1.0, 2.0, 3.0, 4.0, -1.0, -1.0]);
/// let p = pad_sequence(&[a, b], false, 0.0, "left");
/// assert_eq!(p.dims(), &[3, 2]);
/// assert_eq!(p.to_vec::<f32>(), vec![1.0, 0.0, 2.0, 0.0, 3.0, 4.0]);
/// ```
#[track_caller]
pub fn pad_sequence<S: AsRef<Tensor>>(
    sequences: &[S],
    batch_first: bool,
    padding_value: f64,
    padding_side: &str,
) -> Tensor {
    // ATen's `pad_sequence` (aten/src/ATen/native/PackedSequence.cpp), check for check.
    if sequences.is_empty() {
        panic!("received an empty list of sequences");
    }
    let first = sequences[0].as_ref();
    if first.ndim() == 0 {
        panic!("ArrayRef: invalid slice, N = 1; size = 0");
    }
    let trailing = &first.dims()[1..];
    let max_len = sequences
        .iter()
        .map(|s| s.as_ref().dims().first().copied().unwrap_or(0))
        .max()
        .unwrap_or(0);
    let n = sequences.len();
    let mut dims = if batch_first {
        vec![n, max_len]
    } else {
        vec![max_len, n]
    };
    dims.extend_from_slice(trailing);
    let out = Tensor::full_dtype(dims, padding_value, first.dtype());
    if padding_side != "left" && padding_side != "right" {
        panic!("Expected padding_side to be one of left or right, but got {padding_side}.");
    }
    for (i, s) in sequences.iter().enumerate() {
        let s = s.as_ref();
        let len = s.dims().first().copied().unwrap_or(1);
        let start = if padding_side == "left" {
            (max_len - len) as i64
        } else {
            0
        };
        let slot = if batch_first {
            out.select(0, i as i64).narrow(0, start, len)
        } else {
            out.narrow(0, start, len).select(1, i as i64)
        };
        slot.copy_(s);
    }
    out
}
