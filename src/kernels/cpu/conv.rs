//! im2col and col2im over strided images: the copies that turn a convolution into a GEMM.
//!
//! `im2col` writes the column matrix `[row][image][block]` (row = (channel, ki, kj)), so that the
//! rows of one group are one contiguous `(rows, batch * blocks)` matrix: a convolution over the
//! whole batch is then one GEMM per group (`weight · columns`), and the weight gradient is one
//! GEMM contracting over every image and position at once. `col2im` reads any strided
//! (batch, rows, blocks) view and sums every window element back into its pixel, in ATen's order
//! (`col2im` in `aten/src/ATen/native/im2col.h`: rows, then positions), so overlapping windows
//! add up as PyTorch's do.

use super::alloc;
use crate::backend::Im2colGeometry;
use crate::dtype::Num;
use crate::shape::Layout;
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Below this many output elements the kernels stay on the calling thread: handing work to the
/// pool costs more than the copy.
const PARALLEL_ELEMS: usize = 1 << 15;

/// The output positions `o` in `0..out` whose input index `o * stride + offset - pad` lies in
/// `0..size`, as a half-open range (empty when none does).
#[inline]
fn valid(out: usize, stride: usize, pad: usize, offset: usize, size: usize) -> (usize, usize) {
    let lo = if offset >= pad {
        0
    } else {
        (pad - offset).div_ceil(stride)
    };
    let hi = if size + pad <= offset {
        0
    } else {
        (size + pad - offset).div_ceil(stride).min(out)
    };
    (lo.min(hi), hi)
}

/// Copies `src` into `dst` (equal lengths) with fixed-size moves: a convolution's rows are
/// short (11 and 26 elements in the peers' CNN), and `copy_from_slice` on them is a call to
/// `memmove` per row, which cost more than the copy itself. Runs of 8 and, for the tail, the
/// last 8 elements again (overlapping), so every move has a constant size.
#[inline(always)]
fn copy_row<T: Copy>(dst: &mut [MaybeUninit<T>], src: &[T]) {
    const W: usize = 8;
    let n = dst.len();
    assert_eq!(n, src.len());
    if n < W {
        for (d, &s) in dst.iter_mut().zip(src) {
            d.write(s);
        }
        return;
    }
    let mut i = 0;
    while i + W <= n {
        let s: [T; W] = src[i..i + W].try_into().unwrap();
        for (d, v) in dst[i..i + W].iter_mut().zip(s) {
            d.write(v);
        }
        i += W;
    }
    if i < n {
        let s: [T; W] = src[n - W..].try_into().unwrap();
        for (d, v) in dst[n - W..].iter_mut().zip(s) {
            d.write(v);
        }
    }
}

/// The windows of `x`, a (batch, channels, h, w) view, as `[row][image][block]` columns, zeros
/// in the padding.
pub(crate) fn im2col<T: Num>(x: &[T], l: &Layout, g: &Im2colGeometry) -> Vec<T> {
    let [oh, ow] = g.blocks().expect("im2col: the geometry has no blocks");
    let [kh, kw] = g.kernel;
    let (n, blocks) = (g.batch, oh * ow);
    let (sn, sc, sh, sw) = (l.strides[0], l.strides[1], l.strides[2], l.strides[3]);
    let len = g.rows() * n * blocks;
    // Every element is written below (copied, or zeroed where a row's windows reach into the
    // padding), so the buffer starts uninitialised: zeroing it first was a second pass over the
    // largest tensor of a convolution.
    let mut out = alloc::buffer::<T>(len);
    if len == 0 {
        return out;
    }
    let row = |(r, chunk): (usize, &mut [MaybeUninit<T>])| {
        let (c, ki, kj) = (r / (kh * kw), (r / kw) % kh, r % kw);
        let (h_off, w_off) = (ki * g.dilation[0], kj * g.dilation[1]);
        let (y0, y1) = valid(oh, g.stride[0], g.pad_before[0], h_off, g.input[0]);
        let (x0, x1) = valid(ow, g.stride[1], g.pad_before[1], w_off, g.input[1]);
        if x0 >= x1 || y0 >= y1 {
            chunk.fill(MaybeUninit::new(T::zero()));
            return;
        }
        let partial = y0 > 0 || y1 < oh || x0 > 0 || x1 < ow;
        for img in 0..n {
            let base = l.offset + img * sn + c * sc;
            let dst = &mut chunk[img * blocks..(img + 1) * blocks];
            if partial {
                dst.fill(MaybeUninit::new(T::zero()));
            }
            for y in y0..y1 {
                let ih = y * g.stride[0] + h_off - g.pad_before[0];
                let src = base + ih * sh;
                let first = x0 * g.stride[1] + w_off - g.pad_before[1];
                let drow = &mut dst[y * ow + x0..y * ow + x1];
                if g.stride[1] == 1 && sw == 1 {
                    copy_row(drow, &x[src + first..src + first + drow.len()]);
                } else {
                    let step = g.stride[1] * sw;
                    for (i, d) in drow.iter_mut().enumerate() {
                        d.write(x[src + first * sw + i * step]);
                    }
                }
            }
        }
    };
    let dst = &mut out.spare_capacity_mut()[..len];
    if len >= PARALLEL_ELEMS && rayon::current_num_threads() > 1 {
        dst.par_chunks_mut(n * blocks).enumerate().for_each(row);
    } else {
        dst.chunks_mut(n * blocks).enumerate().for_each(row);
    }
    // SAFETY: every chunk was filled above: zeros outside the valid windows, copies inside.
    unsafe { out.set_len(len) };
    out
}

/// Sums the window elements of `cols`, a (batch, rows, blocks) view, back into a row-major
/// (batch, channels, h, w) image.
pub(crate) fn col2im<T: Num>(cols: &[T], l: &Layout, g: &Im2colGeometry) -> Vec<T> {
    let [oh, ow] = g.blocks().expect("col2im: the geometry has no blocks");
    let [kh, kw] = g.kernel;
    let [h, w] = g.input;
    let (s0, s1, s2) = (l.strides[0], l.strides[1], l.strides[2]);
    let mut out = alloc::zeroed::<T>(g.batch * g.channels * h * w);
    if out.is_empty() {
        return out;
    }
    // One (image, channel) plane receives the rows of its channel only, so planes are independent.
    let plane = |(p, dst): (usize, &mut [T])| {
        let (img, c) = (p / g.channels, p % g.channels);
        for ki in 0..kh {
            let h_off = ki * g.dilation[0];
            let (y0, y1) = valid(oh, g.stride[0], g.pad_before[0], h_off, h);
            for kj in 0..kw {
                let w_off = kj * g.dilation[1];
                let (x0, x1) = valid(ow, g.stride[1], g.pad_before[1], w_off, w);
                if x0 >= x1 {
                    continue;
                }
                let r = (c * kh + ki) * kw + kj;
                let base = l.offset + img * s0 + r * s1;
                for y in y0..y1 {
                    let ih = y * g.stride[0] + h_off - g.pad_before[0];
                    let drow = &mut dst[ih * w..(ih + 1) * w];
                    let src = base + y * ow * s2;
                    let first = x0 * g.stride[1] + w_off - g.pad_before[1];
                    if g.stride[1] == 1 && s2 == 1 {
                        // Unit steps on both sides: a slice add the compiler vectorises.
                        let n = x1 - x0;
                        let s = &cols[src + x0..src + x0 + n];
                        for (d, &v) in drow[first..first + n].iter_mut().zip(s) {
                            *d += v;
                        }
                    } else {
                        for (i, xx) in (x0..x1).enumerate() {
                            drow[first + i * g.stride[1]] += cols[src + xx * s2];
                        }
                    }
                }
            }
        }
    };
    if out.len() >= PARALLEL_ELEMS && rayon::current_num_threads() > 1 {
        out.par_chunks_mut(h * w).enumerate().for_each(plane);
    } else {
        out.chunks_mut(h * w).enumerate().for_each(plane);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Shape;

    fn geom(
        input: [usize; 2],
        kernel: [usize; 2],
        pad: [usize; 2],
        stride: [usize; 2],
    ) -> Im2colGeometry {
        Im2colGeometry {
            batch: 2,
            channels: 3,
            input,
            kernel,
            dilation: [1, 2],
            pad_before: pad,
            pad_after: [pad[0] + 1, pad[1]],
            stride,
        }
    }

    /// im2col against the definition, element by element; col2im as its adjoint:
    /// `<im2col(x), c> == <x, col2im(c)>`.
    #[test]
    fn im2col_matches_definition_and_col2im_is_its_adjoint() {
        for g in [
            geom([5, 6], [2, 3], [1, 2], [1, 1]),
            geom([7, 4], [3, 1], [0, 1], [2, 3]),
            geom([3, 3], [1, 1], [0, 0], [1, 1]),
        ] {
            let [h, w] = g.input;
            let x: Vec<f64> = (0..g.batch * g.channels * h * w)
                .map(|i| i as f64 + 1.0)
                .collect();
            let shape = Shape::new(&[g.batch, g.channels, h, w]);
            let l = Layout::contiguous(shape);
            let cols = im2col(&x, &l, &g);
            let [oh, ow] = g.blocks().unwrap();
            let (kh, kw) = (g.kernel[0], g.kernel[1]);
            for r in 0..g.rows() {
                let (c, ki, kj) = (r / (kh * kw), (r / kw) % kh, r % kw);
                for n in 0..g.batch {
                    for y in 0..oh {
                        for xx in 0..ow {
                            let ih = (y * g.stride[0] + ki * g.dilation[0]) as i64
                                - g.pad_before[0] as i64;
                            let iw = (xx * g.stride[1] + kj * g.dilation[1]) as i64
                                - g.pad_before[1] as i64;
                            let want =
                                if ih >= 0 && iw >= 0 && (ih as usize) < h && (iw as usize) < w {
                                    x[((n * g.channels + c) * h + ih as usize) * w + iw as usize]
                                } else {
                                    0.0
                                };
                            assert_eq!(cols[(r * g.batch + n) * oh * ow + y * ow + xx], want);
                        }
                    }
                }
            }
            let c: Vec<f64> = (0..cols.len()).map(|i| (i % 7) as f64 - 3.0).collect();
            // `c` read as a (batch, rows, blocks) view of the `[row][image][block]` buffer.
            let cl = Layout {
                shape: Shape::new(&[g.batch, g.rows(), oh * ow]),
                strides: [oh * ow, g.batch * oh * ow, 1].into_iter().collect(),
                offset: 0,
            };
            let back = col2im(&c, &cl, &g);
            let lhs: f64 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
            let rhs: f64 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
            assert_eq!(lhs, rhs);
        }
    }
}
