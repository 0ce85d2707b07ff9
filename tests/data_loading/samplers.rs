//! Samplers and `torch.multinomial` against PyTorch's streams.

use crate::{data, f32s, nested, panic_message, rng_lock, usizes};
use flambeau::utils::data::{
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
    WeightedRandomSampler,
};
use flambeau::{DType, Generator, Tensor};

fn epoch(s: &dyn Sampler) -> Vec<usize> {
    s.iter().collect()
}

#[test]
fn multinomial_streams() {
    for case in data()["multinomial"].as_array().unwrap() {
        let name = case["python"].as_str().unwrap();
        let w = &case["weights"];
        let (flat, shape): (Vec<f64>, Vec<usize>) = if w[0].is_array() {
            let rows: Vec<Vec<f64>> = w
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_f64().unwrap())
                        .collect()
                })
                .collect();
            let shape = vec![rows.len(), rows[0].len()];
            (rows.concat(), shape)
        } else {
            let v: Vec<f64> = w
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let n = v.len();
            (v, vec![n])
        };
        let mut t = Tensor::from_vec(flat, shape);
        if case["dtype"] == "float32" {
            t = t.to_dtype(DType::F32);
        }
        let g = Generator::new().manual_seed(case["seed"].as_u64().unwrap());
        let got = t.multinomial_gen(
            case["num_samples"].as_u64().unwrap() as usize,
            case["replacement"].as_bool().unwrap(),
            &g,
        );
        let want: Vec<i64> = case["indices"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|v| match v.as_array() {
                Some(row) => row.iter().map(|x| x.as_i64().unwrap()).collect::<Vec<_>>(),
                None => vec![v.as_i64().unwrap()],
            })
            .collect();
        assert_eq!(got.to_vec::<i64>(), want, "{name}");
        assert_eq!(got.dtype(), DType::I64);
        // The generator is left where PyTorch leaves it.
        let after = Tensor::rand_gen([2], DType::F32, &g).to_vec::<f32>();
        let after: Vec<u32> = after.iter().map(|x| x.to_bits()).collect();
        assert_eq!(
            after,
            f32s(&case["rand2_after"]),
            "{name}: generator state after"
        );
    }
}

#[test]
fn multinomial_default_generator() {
    let _g = rng_lock();
    let case = &data()["multinomial_default"];
    flambeau::manual_seed(4);
    let w = Tensor::from_vec(vec![1.0f64, 3.0, 2.0], [3]);
    let got = w.multinomial(8, true).to_vec::<i64>();
    let want: Vec<i64> = usizes(&case["indices"]).iter().map(|&i| i as i64).collect();
    assert_eq!(got, want);
}

#[test]
fn multinomial_errors() {
    let w = Tensor::from_vec(vec![1.0f64, 2.0], [2]);
    let g = Generator::new();
    assert_eq!(
        panic_message(|| {
            w.multinomial_gen(3, false, &g);
        }),
        "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
    );
    assert_eq!(
        panic_message(|| {
            w.multinomial_gen(0, true, &g);
        }),
        "cannot sample n_sample <= 0 samples"
    );
    let neg = Tensor::from_vec(vec![1.0f64, -2.0], [2]);
    assert_eq!(
        panic_message(|| {
            neg.multinomial_gen(1, true, &g);
        }),
        "probability tensor contains either `inf`, `nan` or element < 0"
    );
    assert_eq!(
        panic_message(|| {
            neg.multinomial_gen(2, true, &g);
        }),
        "invalid multinomial distribution (encountering probability entry < 0)"
    );
    let zero = Tensor::from_vec(vec![0.0f64, 0.0], [2]);
    assert_eq!(
        panic_message(|| {
            zero.multinomial_gen(2, true, &g);
        }),
        "invalid multinomial distribution (sum of probabilities <= 0)"
    );
    let ints = Tensor::from_vec(vec![1i64, 2], [2]);
    assert_eq!(
        panic_message(|| {
            ints.multinomial_gen(1, true, &g);
        }),
        "multinomial only supports floating-point dtypes for input, got: Long"
    );
}

#[test]
fn weighted_random_sampler_epochs() {
    for case in data()["weighted_random_sampler"].as_array().unwrap() {
        let w: Vec<f64> = case["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let s = WeightedRandomSampler::new(
            &w,
            case["num_samples"].as_u64().unwrap() as usize,
            case["replacement"].as_bool().unwrap(),
        )
        .generator(Generator::new().manual_seed(case["seed"].as_u64().unwrap()));
        let want = nested(&case["epochs"]);
        assert_eq!(vec![epoch(&s), epoch(&s)], want, "{}", case["python"]);
        assert_eq!(s.len(), want[0].len());
    }
}

#[test]
fn random_sampler_epochs() {
    for case in data()["random_sampler"].as_array().unwrap() {
        let mut s = RandomSampler::new(case["n"].as_u64().unwrap() as usize)
            .replacement(case["replacement"].as_bool().unwrap())
            .generator(Generator::new().manual_seed(case["seed"].as_u64().unwrap()));
        if let Some(k) = case["num_samples"].as_u64() {
            s = s.num_samples(k as usize);
        }
        assert_eq!(
            vec![epoch(&s), epoch(&s)],
            nested(&case["epochs"]),
            "{}",
            case["python"]
        );
        assert_eq!(s.len() as u64, case["len"].as_u64().unwrap());
    }
}

#[test]
fn random_sampler_default_generator() {
    let _g = rng_lock();
    let case = &data()["random_sampler_default"];
    flambeau::manual_seed(9);
    let s = RandomSampler::new(8).replacement(true).num_samples(40);
    assert_eq!(vec![epoch(&s), epoch(&s)], nested(&case["epochs"]));
    let after: Vec<u32> = flambeau::rand([3])
        .to_vec::<f32>()
        .iter()
        .map(|x| x.to_bits())
        .collect();
    assert_eq!(after, f32s(&case["rand3_after"]));
}

#[test]
fn subset_random_sampler() {
    let case = &data()["subset_random_sampler"];
    let s = SubsetRandomSampler::new(usizes(&case["indices"]))
        .generator(Generator::new().manual_seed(case["seed"].as_u64().unwrap()));
    assert_eq!(vec![epoch(&s), epoch(&s)], nested(&case["epochs"]));
    assert_eq!(s.len(), 6);

    let _g = rng_lock();
    let case = &data()["subset_random_sampler_default"];
    flambeau::manual_seed(6);
    let s = SubsetRandomSampler::new((1..=7).collect());
    assert_eq!(epoch(&s), usizes(&case["epoch"]));
    let after: Vec<u32> = flambeau::rand([2])
        .to_vec::<f32>()
        .iter()
        .map(|x| x.to_bits())
        .collect();
    assert_eq!(after, f32s(&case["rand2_after"]));
}

#[test]
fn batch_sampler_drop_last() {
    for case in data()["batch_sampler"].as_array().unwrap() {
        let b = BatchSampler::new(
            SequentialSampler::new(case["n"].as_u64().unwrap() as usize),
            case["batch_size"].as_u64().unwrap() as usize,
            case["drop_last"].as_bool().unwrap(),
        );
        let got: Vec<Vec<usize>> = b.iter().collect();
        assert_eq!(got, nested(&case["batches"]), "{case}");
        assert_eq!(b.len() as u64, case["len"].as_u64().unwrap(), "{case}");
    }
}

#[test]
fn sampler_errors() {
    assert_eq!(
        panic_message(|| {
            BatchSampler::new(SequentialSampler::new(3), 0, false);
        }),
        "batch_size should be a positive integer value, but got batch_size=0"
    );
    assert_eq!(
        panic_message(|| {
            RandomSampler::new(3).num_samples(0);
        }),
        "num_samples should be a positive integer value, but got num_samples=0"
    );
    assert_eq!(
        panic_message(|| {
            RandomSampler::new(0);
        }),
        "num_samples should be a positive integer value, but got num_samples=0"
    );
    assert_eq!(
        panic_message(|| {
            WeightedRandomSampler::new(&[1.0], 0, true);
        }),
        "num_samples should be a positive integer value, but got num_samples=0"
    );
}

/// The permutation is drawn when the first index is read, not when the epoch starts.
#[test]
fn random_sampler_draws_lazily() {
    let g = Generator::new().manual_seed(0);
    let s = RandomSampler::new(10).generator(g.clone());
    let before = g.get_state();
    let mut it = s.iter();
    assert_eq!(g.get_state(), before);
    it.next();
    assert_ne!(g.get_state(), before);
}
