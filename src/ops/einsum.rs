//! `torch.einsum`: an equation parsed into labels, each operand's private labels summed away, then
//! the operands contracted left to right as ATen's `sumproduct_pair` does, one batched matrix
//! product per pair (batch labels, the first operand's own labels, the second's own labels, with
//! the shared labels summed by the product). Built from differentiable ops, so gradients of every
//! order follow.

use crate::tensor::Tensor;

/// Label ids: `A-Z` are 0..26 and `a-z` 26..52, the order ATen gives an implicit output; the dims
/// an ellipsis covers get ids from 52 on, aligned to the right across operands.
const ELLIPSIS_BASE: usize = 52;

/// One side of the equation: the labels of each operand, and where an ellipsis stands.
struct Subscript {
    labels: Vec<usize>,
    ellipsis_at: Option<usize>,
}

#[track_caller]
fn parse_subscript(s: &str) -> Subscript {
    let mut labels = Vec::new();
    let mut ellipsis_at = None;
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("...") {
            if ellipsis_at.is_some() {
                panic!("einsum(): found '.' for operand that is not part of any ellipsis");
            }
            ellipsis_at = Some(labels.len());
            rest = &rest[3..];
            continue;
        }
        let id = match c {
            'A'..='Z' => c as usize - 'A' as usize,
            'a'..='z' => c as usize - 'a' as usize + 26,
            '.' => panic!("einsum(): found '.' for operand that is not part of any ellipsis"),
            _ => panic!(
                "einsum(): invalid subscript given at index {}",
                s.len() - rest.len()
            ),
        };
        labels.push(id);
        rest = &rest[c.len_utf8()..];
    }
    Subscript {
        labels,
        ellipsis_at,
    }
}

/// The full label list of a subscript whose ellipsis covers `covered` dims of `max_covered`.
fn expand_ellipsis(sub: &Subscript, covered: usize, max_covered: usize) -> Vec<usize> {
    match sub.ellipsis_at {
        None => sub.labels.clone(),
        Some(at) => {
            let mut out = sub.labels[..at].to_vec();
            out.extend((max_covered - covered..max_covered).map(|k| ELLIPSIS_BASE + k));
            out.extend_from_slice(&sub.labels[at..]);
            out
        }
    }
}

/// A tensor with one label per dim.
struct Labelled {
    t: Tensor,
    labels: Vec<usize>,
}

impl Labelled {
    /// Sums away the labels `keep` does not hold.
    fn sum_except(self, keep: impl Fn(usize) -> bool) -> Labelled {
        let gone: Vec<usize> = (0..self.labels.len())
            .filter(|&d| !keep(self.labels[d]))
            .collect();
        if gone.is_empty() {
            return self;
        }
        let labels = self.labels.iter().copied().filter(|&l| keep(l)).collect();
        Labelled {
            t: self.t.sum_dim(gone, false),
            labels,
        }
    }

    /// Dims in the order of `labels`, and the sizes of those dims.
    fn dims_of(&self, labels: &[usize]) -> (Vec<usize>, Vec<usize>) {
        let dims: Vec<usize> = labels
            .iter()
            .map(|l| {
                self.labels
                    .iter()
                    .position(|m| m == l)
                    .expect("label of this operand")
            })
            .collect();
        let sizes = dims.iter().map(|&d| self.t.dims()[d]).collect();
        (dims, sizes)
    }
}

/// `a` and `b` contracted over their shared labels that `keep` does not hold.
fn contract(a: Labelled, b: Labelled, keep: &dyn Fn(usize) -> bool) -> Labelled {
    let a = a.sum_except(|l| keep(l) || b.labels.contains(&l));
    let b = b.sum_except(|l| keep(l) || a.labels.contains(&l));
    let in_b = |l: usize| b.labels.contains(&l);
    let batch: Vec<usize> = a
        .labels
        .iter()
        .copied()
        .filter(|&l| in_b(l) && keep(l))
        .collect();
    let summed: Vec<usize> = a
        .labels
        .iter()
        .copied()
        .filter(|&l| in_b(l) && !keep(l))
        .collect();
    let a_own: Vec<usize> = a.labels.iter().copied().filter(|&l| !in_b(l)).collect();
    let b_own: Vec<usize> = b
        .labels
        .iter()
        .copied()
        .filter(|l| !a.labels.contains(l))
        .collect();
    let (a_batch, batch_sizes) = a.dims_of(&batch);
    let (a_own_dims, a_own_sizes) = a.dims_of(&a_own);
    let (a_sum, sum_sizes) = a.dims_of(&summed);
    let (b_batch, _) = b.dims_of(&batch);
    let (b_sum, _) = b.dims_of(&summed);
    let (b_own_dims, b_own_sizes) = b.dims_of(&b_own);
    let prod = |s: &[usize]| s.iter().product::<usize>();
    let lhs =
        a.t.permute([a_batch.clone(), a_own_dims, a_sum].concat())
            .reshape([prod(&batch_sizes), prod(&a_own_sizes), prod(&sum_sizes)]);
    let rhs = b.t.permute([b_batch, b_sum, b_own_dims].concat()).reshape([
        prod(&batch_sizes),
        prod(&sum_sizes),
        prod(&b_own_sizes),
    ]);
    let out = lhs
        .bmm(&rhs)
        .reshape([batch_sizes, a_own_sizes, b_own_sizes].concat());
    Labelled {
        t: out,
        labels: [batch, a_own, b_own].concat(),
    }
}

impl Tensor {
    /// Sums of products of the operands' elements over the labels an equation names
    /// (`torch.einsum(equation, *operands)`): `"bij,bjk->bik"` is a batched matrix product,
    /// `"i,j->ij"` an outer product; `...` stands for the broadcast dims, and without `->` the
    /// output is the labels used once, in alphabetical order (capitals first). Labels of the same
    /// letter must have equal sizes or size 1 (broadcast). A label repeated within one operand
    /// (a diagonal, as in `"ii->i"`) is not supported yet and panics.
    ///
    /// ```
    /// use flambeau::{Tensor, tensor};
    /// let a = tensor!([[1.0, 2.0], [3.0, 4.0]]);
    /// let b = tensor!([[5.0, 6.0], [7.0, 8.0]]);
    /// let ab = Tensor::einsum("ij,jk->ik", &[&a, &b]);
    /// assert_eq!(ab.to_vec2::<f32>(), a.matmul(&b).to_vec2::<f32>());
    /// ```
    #[track_caller]
    pub fn einsum(equation: &str, operands: &[&Tensor]) -> Tensor {
        let eq: String = equation.chars().filter(|c| !c.is_whitespace()).collect();
        let (lhs, rhs) = match eq.split_once("->") {
            Some((l, r)) => (l, Some(r)),
            None => (eq.as_str(), None),
        };
        let subs: Vec<Subscript> = lhs.split(',').map(parse_subscript).collect();
        if subs.len() != operands.len() {
            let which = if subs.len() < operands.len() {
                "more"
            } else {
                "fewer"
            };
            panic!("einsum(): {which} operands were provided than specified in the equation");
        }
        let mut covered = Vec::with_capacity(subs.len());
        for (i, (sub, t)) in subs.iter().zip(operands).enumerate() {
            let named = sub.labels.len();
            match sub.ellipsis_at {
                None if t.ndim() != named => panic!(
                    "einsum(): the number of subscripts in the equation ({named}) does not match \
                     the number of dimensions ({}) for operand {i} and no ellipsis was given",
                    t.ndim()
                ),
                Some(_) if t.ndim() < named => panic!(
                    "einsum(): the number of subscripts in the equation ({named}) is more than \
                     the number of dimensions ({}) for operand {i}",
                    t.ndim()
                ),
                _ => covered.push(t.ndim() - named),
            }
        }
        let max_covered = covered.iter().copied().max().unwrap_or(0);
        let mut ops: Vec<Labelled> = Vec::with_capacity(subs.len());
        for ((sub, &c), t) in subs.iter().zip(&covered).zip(operands) {
            let labels = expand_ellipsis(sub, c, max_covered);
            for (i, l) in labels.iter().enumerate() {
                if labels[..i].contains(l) {
                    panic!(
                        "einsum(): a subscript repeated within one operand (a diagonal) is not supported yet"
                    );
                }
            }
            ops.push(Labelled {
                t: (*t).clone(),
                labels,
            });
        }
        let output: Vec<usize> = match rhs {
            Some(r) => {
                let sub = parse_subscript(r);
                for (i, l) in sub.labels.iter().enumerate() {
                    if sub.labels[..i].contains(l) {
                        panic!(
                            "einsum(): output subscript {} appears more than once in the output",
                            label_char(*l)
                        );
                    }
                    if !ops.iter().any(|o| o.labels.contains(l)) {
                        panic!(
                            "einsum(): output subscript {} does not appear in the equation for any input operand",
                            label_char(*l)
                        );
                    }
                }
                let ell = sub.ellipsis_at.map_or(0, |_| max_covered);
                expand_ellipsis(&sub, ell, max_covered)
            }
            None => {
                let mut out: Vec<usize> = (0..max_covered).map(|k| ELLIPSIS_BASE + k).collect();
                out.extend((0..ELLIPSIS_BASE).filter(|l| {
                    ops.iter()
                        .map(|o| o.labels.iter().filter(|m| *m == l).count())
                        .sum::<usize>()
                        == 1
                }));
                out
            }
        };
        // Each label's size: equal across operands, or 1 where it broadcasts.
        let mut size = vec![1usize; ELLIPSIS_BASE + max_covered];
        for (i, o) in ops.iter().enumerate() {
            for (d, &l) in o.labels.iter().enumerate() {
                let n = o.t.dims()[d];
                if n != 1 && size[l] != 1 && size[l] != n {
                    panic!(
                        "einsum(): operands do not broadcast with remapped shapes (original->remapped): \
                         subscript {} has size {n} for operand {i} which does not broadcast with previously seen size {}",
                        label_char(l),
                        size[l]
                    );
                }
                size[l] = size[l].max(n);
            }
        }
        let ops: Vec<Labelled> = ops
            .into_iter()
            .map(|o| {
                let full: Vec<usize> = o.labels.iter().map(|&l| size[l]).collect();
                let t = if full.as_slice() == o.t.dims() {
                    o.t
                } else {
                    o.t.expand(full)
                };
                Labelled {
                    t,
                    labels: o.labels,
                }
            })
            .collect();
        // Labels found in one operand only and not in the output are summed first.
        let mut uses = vec![0usize; size.len()];
        for o in &ops {
            for &l in &o.labels {
                uses[l] += 1;
            }
        }
        let mut ops = ops
            .into_iter()
            .map(|o| o.sum_except(|l| output.contains(&l) || uses[l] > 1))
            .collect::<Vec<_>>()
            .into_iter();
        let mut acc = ops
            .next()
            .expect("einsum(): must provide at least one operand");
        let rest: Vec<Labelled> = ops.collect();
        let mut later_uses = vec![0usize; size.len()];
        for o in &rest {
            for &l in &o.labels {
                later_uses[l] += 1;
            }
        }
        for next in rest {
            for &l in &next.labels {
                later_uses[l] -= 1;
            }
            let keep = |l: usize| output.contains(&l) || later_uses[l] > 0;
            acc = contract(acc, next, &keep);
        }
        let acc = acc.sum_except(|l| output.contains(&l));
        let (perm, _) = acc.dims_of(&output);
        if perm.iter().enumerate().all(|(i, &d)| i == d) {
            acc.t
        } else {
            acc.t.permute(perm)
        }
    }
}

/// The letter of a label id, for messages.
fn label_char(l: usize) -> char {
    match l {
        0..26 => (b'A' + l as u8) as char,
        26..52 => (b'a' + (l - 26) as u8) as char,
        _ => '.',
    }
}
