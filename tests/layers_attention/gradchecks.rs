//! float64 `gradcheck` + `gradgradcheck` of SDPA, multi-head attention and the transformer layers.

use super::*;

struct Checks(Vec<String>, usize);

impl Checks {
    fn check(&mut self, label: &str, f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) {
        self.1 += 1;
        let opts = GradcheckOptions::default();
        let run = |c: &dyn Fn() -> Result<(), String>| {
            catch_unwind(AssertUnwindSafe(c)).unwrap_or_else(|_| Err("panicked".into()))
        };
        if let Err(e) = run(&|| gradcheck(&f, inputs, opts)) {
            self.0.push(format!("{label}: {e}"));
        } else if let Err(e) = run(&|| gradgradcheck(&f, inputs, self.1 as u64, opts)) {
            self.0.push(format!("{label} (gradgradcheck): {e}"));
        }
    }
    fn finish(self) {
        assert!(self.0.is_empty(), "{}", self.0.join("\n"));
        assert!(self.1 > 0);
    }
}

fn rnd(g: &Generator, shape: &[usize]) -> Tensor {
    Tensor::randn_gen(shape, DType::F64, g).requires_grad_(true)
}

#[test]
fn sdpa_gradcheck() {
    let g = Generator::new().manual_seed(1);
    let (q, k, v) = (
        rnd(&g, &[2, 3, 4]),
        rnd(&g, &[2, 5, 4]),
        rnd(&g, &[2, 5, 3]),
    );
    let mut bool_mask = vec![true; 15];
    bool_mask[5..10].iter_mut().for_each(|b| *b = false); // row 1: nothing to attend
    bool_mask[11] = false;
    let bmask = Tensor::from_vec(bool_mask, [3, 5]);
    let fmask = rnd(&g, &[3, 5]);
    // A non-contiguous query: the transpose of a (2, 4, 3) leaf.
    let qt = rnd(&g, &[2, 4, 3]);
    let mut c = Checks(vec![], 0);
    let sd = |v: &[Tensor], m: Option<&Tensor>, causal: bool, scale: Option<f64>| {
        F::scaled_dot_product_attention(&v[0], &v[1], &v[2], m, 0.0, causal, scale)
    };
    let qkv = [q.clone(), k.clone(), v.clone()];
    c.check("plain", |v| sd(v, None, false, None), &qkv);
    c.check(
        "bool mask, a fully masked row",
        |v| sd(v, Some(&bmask), false, None),
        &qkv,
    );
    c.check(
        "float mask (its gradient too)",
        |v| sd(&v[..3], Some(&v[3]), false, None),
        &[q.clone(), k.clone(), v.clone(), fmask.clone()],
    );
    c.check("causal, L != S", |v| sd(v, None, true, None), &qkv);
    c.check("scale 0.7", |v| sd(v, None, false, Some(0.7)), &qkv);
    c.check("negative scale", |v| sd(v, None, false, Some(-0.4)), &qkv);
    c.check(
        "non-contiguous query",
        |v| {
            let q = v[0].transpose(1, 2);
            F::scaled_dot_product_attention(&q, &v[1], &v[2], None, 0.0, false, None)
        },
        &[qt, k.clone(), v.clone()],
    );
    c.check(
        "4-D, broadcast bool mask",
        |v| {
            let m = Tensor::from_vec(vec![true, false, true, true, true, false], [1, 2, 1, 3]);
            F::scaled_dot_product_attention(&v[0], &v[1], &v[2], Some(&m), 0.0, false, None)
        },
        &[
            rnd(&g, &[1, 2, 2, 3]),
            rnd(&g, &[1, 2, 3, 3]),
            rnd(&g, &[1, 2, 3, 2]),
        ],
    );
    c.finish();
}

/// Multi-head attention through the functional form, with the projections as inputs.
#[test]
fn mha_gradcheck() {
    let g = Generator::new().manual_seed(2);
    let (e, h) = (4, 2);
    let x = rnd(&g, &[3, 2, e]);
    let kv = rnd(&g, &[5, 2, e]);
    let w_in = rnd(&g, &[3 * e, e]);
    let b_in = rnd(&g, &[3 * e]);
    let w_out = rnd(&g, &[e, e]);
    let params =
        |v: &[Tensor]| -> (Tensor, Tensor, Tensor) { (v[1].clone(), v[2].clone(), v[3].clone()) };
    let run = |v: &[Tensor],
               q: &Tensor,
               k: &Tensor,
               val: &Tensor,
               opts: MhaOptions<'_>,
               weights: bool| {
        let (wi, bi, wo) = params(v);
        let p = MhaParams {
            in_proj_weight: Some(&wi),
            in_proj_bias: Some(&bi),
            ..MhaParams::new(e, h, &wo)
        };
        let (out, w) = F::multi_head_attention_forward(q, k, val, &p, opts);
        if weights { w.unwrap() } else { out }
    };
    let mut c = Checks(vec![], 0);
    let base = [x.clone(), w_in.clone(), b_in.clone(), w_out.clone()];
    c.check(
        "self, output",
        |v| run(v, &v[0], &v[0], &v[0], MhaOptions::default(), false),
        &base,
    );
    c.check(
        "self, weights",
        |v| run(v, &v[0], &v[0], &v[0], MhaOptions::default(), true),
        &base,
    );
    let cross = [
        x.clone(),
        w_in.clone(),
        b_in.clone(),
        w_out.clone(),
        kv.clone(),
    ];
    c.check(
        "cross (k is v)",
        |v| run(v, &v[0], &v[4], &v[4], MhaOptions::default(), false),
        &cross,
    );
    let am = Tensor::from_vec(
        vec![
            false, true, true, true, true, false, false, true, false, true, false, false, false,
            false, true,
        ],
        [3, 5],
    );
    let kpm = Tensor::from_vec(
        vec![
            false, false, false, false, true, false, false, false, false, false,
        ],
        [2, 5],
    );
    let masked = MhaOptions {
        attn_mask: Some(&am),
        key_padding_mask: Some(&kpm),
        ..Default::default()
    };
    c.check(
        "cross, bool masks, weights path",
        |v| run(v, &v[0], &v[4], &v[4], masked, false),
        &cross,
    );
    c.check(
        "cross, bool masks, SDPA path",
        |v| {
            run(
                v,
                &v[0],
                &v[4],
                &v[4],
                MhaOptions {
                    need_weights: false,
                    ..masked
                },
                false,
            )
        },
        &cross,
    );
    let fm = Tensor::randn_gen([2 * h, 3, 5], DType::F64, &g);
    c.check(
        "3-D float mask, per-head weights",
        |v| {
            let o = MhaOptions {
                attn_mask: Some(&fm),
                average_attn_weights: false,
                ..Default::default()
            };
            run(v, &v[0], &v[4], &v[4], o, true)
        },
        &cross,
    );
    let causal = Transformer::generate_square_subsequent_mask_dtype(3, DType::F64);
    c.check(
        "self, causal hint",
        |v| {
            let o = MhaOptions {
                attn_mask: Some(&causal),
                is_causal: true,
                need_weights: false,
                ..Default::default()
            };
            run(v, &v[0], &v[0], &v[0], o, false)
        },
        &base,
    );
    c.check(
        "unbatched",
        |v| {
            run(
                v,
                &v[0].select(1, 0),
                &v[0].select(1, 0),
                &v[0].select(1, 0),
                MhaOptions::default(),
                false,
            )
        },
        &base,
    );
    c.finish();
}

/// The module with kdim/vdim (separate projections), bias_kv and zero_attn, batch_first.
#[test]
fn mha_module_gradcheck() {
    let _g = rng_lock();
    manual_seed(3);
    let o = MultiheadAttentionOptions {
        kdim: Some(3),
        vdim: Some(5),
        add_bias_kv: true,
        add_zero_attn: true,
        batch_first: true,
        ..Default::default()
    };
    let mut m = MultiheadAttention::with_options(4, 2, o);
    m.to_dtype(DType::F64);
    let g = Generator::new().manual_seed(4);
    let (q, k, v) = (
        rnd(&g, &[2, 3, 4]),
        rnd(&g, &[2, 5, 3]),
        rnd(&g, &[2, 5, 5]),
    );
    let mut c = Checks(vec![], 0);
    c.check(
        "kdim/vdim/bias_kv/zero_attn",
        |x| m.forward(&x[0], &x[1], &x[2], MhaOptions::default()).0,
        &[q.clone(), k.clone(), v.clone()],
    );
    c.check(
        "kdim/vdim, weights, SDPA path equal",
        |x| {
            m.forward(&x[0], &x[1], &x[2], MhaOptions::default())
                .1
                .unwrap()
        },
        &[q, k, v],
    );
    c.finish();
}

#[test]
fn transformer_layers_gradcheck() {
    let _g = rng_lock();
    let g = Generator::new().manual_seed(5);
    let x = rnd(&g, &[3, 2, 4]);
    let mem = rnd(&g, &[4, 2, 4]);
    let mut c = Checks(vec![], 0);
    for (norm_first, act) in [
        (false, "relu"),
        (true, "relu"),
        (false, "gelu"),
        (true, "gelu"),
    ] {
        manual_seed(6);
        let o = TransformerLayerOptions {
            norm_first,
            activation: TransformerActivation::parse(act),
            ..layer_opts(6)
        };
        let mut enc = TransformerEncoderLayer::with_options(4, 2, o);
        enc.to_dtype(DType::F64);
        let mask = Transformer::generate_square_subsequent_mask_dtype(3, DType::F64);
        c.check(
            &format!("encoder layer norm_first={norm_first} {act}"),
            |v| {
                enc.forward_with(
                    &v[0],
                    EncoderMasks {
                        src_mask: Some(&mask),
                        ..Default::default()
                    },
                )
            },
            std::slice::from_ref(&x),
        );
        let mut dec = TransformerDecoderLayer::with_options(4, 2, o);
        dec.to_dtype(DType::F64);
        c.check(
            &format!("decoder layer norm_first={norm_first} {act}"),
            |v| {
                dec.forward(
                    &v[0],
                    &v[1],
                    DecoderMasks {
                        tgt_mask: Some(&mask),
                        ..Default::default()
                    },
                )
            },
            &[x.clone(), mem.clone()],
        );
    }
    c.finish();
}
