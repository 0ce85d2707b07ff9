//! Bit-exact reproduction of PyTorch's CPU default random generator (`at::CPUGeneratorImpl`:
//! an `at::mt19937` engine plus cached normal samples), and the integer draws that happen on the
//! host (`torch.randint`, `torch.randperm`). The float distributions that fill tensors
//! (`rand`, `randn`, `uniform_`, `normal_`, `bernoulli`) are the CPU backend's random-fill
//! kernels, in `kernels/cpu/random.rs`; they draw from this generator exactly as PyTorch does,
//! so calls can be chained like successive torch calls after one `torch.manual_seed`.
//!
//! Thread-safety: [`GeneratorState`] is a plain value (`Send + Sync`, no interior mutability).
//! PyTorch serialises all draws of one generator under its mutex; `random::Generator` does the
//! same, so the stream depends on the order in which threads take the lock, as in PyTorch.

/// Number of 32-bit words in the Mersenne Twister state (`at::MERSENNE_STATE_N`).
pub const MERSENNE_STATE_N: usize = 624;
const MERSENNE_STATE_M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UMASK: u32 = 0x8000_0000;
const LMASK: u32 = 0x7fff_ffff;

/// Size in bytes of the blob produced by [`GeneratorState::get_state`]; equal to
/// `torch.get_rng_state().numel()` (`sizeof(at::detail::CPUGeneratorImplState)` on x86-64).
pub const STATE_BYTES: usize = 5056;

/// The state of PyTorch's CPU generator: the Mersenne Twister data of `at::mt19937`
/// (`ATen/core/MT19937RNGEngine.h`, `mt19937_data_pod`) plus the two cached normal samples that
/// `at::CPUGeneratorImpl` keeps (`next_float_normal_sample_`, `next_double_normal_sample_`).
///
/// Only the double cache is used by the kernels of this crate (all of PyTorch's CPU scalar normal
/// paths use `at::normal_distribution<double>`); the float cache is kept so that
/// [`get_state`](Self::get_state) / [`set_state`](Self::set_state) round-trip every torch state.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratorState {
    seed: u64,
    left: i32,
    seeded: bool,
    next: u32,
    state: [u32; MERSENNE_STATE_N],
    next_float_normal_sample: Option<f32>,
    next_double_normal_sample: Option<f64>,
}

impl Default for GeneratorState {
    /// The state of `at::mt19937()` constructed with its default seed 5489.
    fn default() -> Self {
        Self::new(5489)
    }
}

impl GeneratorState {
    /// A generator in the state `torch.manual_seed(seed)` leaves the default CPU generator in
    /// (`CPUGeneratorImpl::set_current_seed`: `engine_ = mt19937(seed)`, both caches cleared).
    ///
    /// Like `at::mt19937_engine::init_with_uint32`, only the low 32 bits of `seed` feed the
    /// state; the full 64-bit value is kept for [`initial_seed`](Self::initial_seed).
    pub fn new(seed: u64) -> Self {
        let mut state = [0u32; MERSENNE_STATE_N];
        state[0] = seed as u32;
        for j in 1..MERSENNE_STATE_N {
            let prev = state[j - 1];
            state[j] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(j as u32);
        }
        GeneratorState {
            seed,
            left: 1,
            seeded: true,
            next: 0,
            state,
            next_float_normal_sample: None,
            next_double_normal_sample: None,
        }
    }

    /// Re-seeds in place, exactly like `torch.manual_seed(seed)` (also clears the cached normal
    /// samples).
    pub fn manual_seed(&mut self, seed: u64) {
        *self = Self::new(seed);
    }

    /// The seed last given to [`new`](Self::new) / [`manual_seed`](Self::manual_seed)
    /// (`torch.initial_seed()`).
    pub fn initial_seed(&self) -> u64 {
        self.seed
    }

    /// One 32-bit output of the engine (`CPUGeneratorImpl::random()` = `at::mt19937::operator()`).
    pub fn random(&mut self) -> u32 {
        self.left -= 1;
        if self.left == 0 {
            self.next_state();
        }
        let mut y = self.state[self.next as usize];
        self.next += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// Two engine outputs joined as `(first << 32) | second` (`CPUGeneratorImpl::random64()`).
    pub fn random64(&mut self) -> u64 {
        let hi = self.random() as u64;
        let lo = self.random() as u64;
        (hi << 32) | lo
    }

    /// The state regeneration step of `at::mt19937_engine::next_state`.
    fn next_state(&mut self) {
        fn twist(u: u32, v: u32) -> u32 {
            let mixed = (u & UMASK) | (v & LMASK);
            (mixed >> 1) ^ if v & 1 != 0 { MATRIX_A } else { 0 }
        }
        let s = &mut self.state;
        self.left = MERSENNE_STATE_N as i32;
        self.next = 0;
        const N: usize = MERSENNE_STATE_N;
        const M: usize = MERSENNE_STATE_M;
        for p in 0..N - M {
            s[p] = s[p + M] ^ twist(s[p], s[p + 1]);
        }
        for p in N - M..N - 1 {
            s[p] = s[p + M - N] ^ twist(s[p], s[p + 1]);
        }
        s[N - 1] = s[M - 1] ^ twist(s[N - 1], s[0]);
    }

    /// Serialises the generator in exactly the byte layout of `torch.get_rng_state()` on x86-64
    /// (`at::detail::CPUGeneratorImplState`, little-endian, [`STATE_BYTES`] = 5056 bytes), so
    /// `bytes(torch.get_rng_state())` can be fed to [`set_state`](Self::set_state) and vice versa:
    ///
    /// | offset | type | field |
    /// |---|---|---|
    /// | 0 | u64 | `the_initial_seed` |
    /// | 8 | i32 | `left` (1..=624) |
    /// | 12 | i32 | `seeded` (1) |
    /// | 16 | u64 | `next` (index into the state, 0..=624) |
    /// | 24 | 624 × u64 | `state` (each a 32-bit word widened to 64 bits) |
    /// | 5016 | f64 | `normal_x` (unused, 0) |
    /// | 5024 | f64 | `normal_y` = cached double normal sample (0 if none) |
    /// | 5032 | f64 | `normal_rho` (unused, 0) |
    /// | 5040 | i32 | `normal_is_valid` (cached double sample present), then 4 padding bytes |
    /// | 5048 | f32 | `next_float_normal_sample` (0 if none) |
    /// | 5052 | u8 | `is_next_float_normal_sample_valid`, then 3 padding bytes |
    pub fn get_state(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(STATE_BYTES);
        b.extend_from_slice(&self.seed.to_le_bytes());
        b.extend_from_slice(&self.left.to_le_bytes());
        b.extend_from_slice(&(self.seeded as i32).to_le_bytes());
        b.extend_from_slice(&(self.next as u64).to_le_bytes());
        for &w in &self.state {
            b.extend_from_slice(&(w as u64).to_le_bytes());
        }
        b.extend_from_slice(&0f64.to_le_bytes());
        b.extend_from_slice(&self.next_double_normal_sample.unwrap_or(0.0).to_le_bytes());
        b.extend_from_slice(&0f64.to_le_bytes());
        b.extend_from_slice(&(self.next_double_normal_sample.is_some() as i32).to_le_bytes());
        b.extend_from_slice(&[0u8; 4]);
        b.extend_from_slice(&self.next_float_normal_sample.unwrap_or(0.0).to_le_bytes());
        b.push(self.next_float_normal_sample.is_some() as u8);
        b.extend_from_slice(&[0u8; 3]);
        debug_assert_eq!(b.len(), STATE_BYTES);
        b
    }

    /// Restores a state written by [`get_state`](Self::get_state) or by `torch.get_rng_state()`
    /// (`CPUGeneratorImpl::set_state`). As in torch, the 64-bit state words are truncated to
    /// 32 bits, and the blob is rejected unless it has [`STATE_BYTES`] bytes, `seeded` is set,
    /// `1 <= left <= 624` and `next <= 624` (`mt19937_engine::is_valid`). On error `self` is
    /// left unchanged.
    pub fn set_state(&mut self, bytes: &[u8]) -> Result<(), String> {
        if bytes.len() != STATE_BYTES {
            return Err(format!(
                "Expected a CPUGeneratorImplState of size {STATE_BYTES} but found the input RNG \
                 state size to be {}",
                bytes.len()
            ));
        }
        let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap());
        let i32_at = |o: usize| i32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
        let seed = u64_at(0);
        let left = i32_at(8);
        let seeded = i32_at(12) != 0;
        // torch: `rng_data.next_ = static_cast<uint32_t>(legacy_pod->next)`.
        let next = u64_at(16) as u32;
        let mut state = [0u32; MERSENNE_STATE_N];
        for (i, w) in state.iter_mut().enumerate() {
            *w = u64_at(24 + 8 * i) as u32;
        }
        if !(seeded
            && left > 0
            && left <= MERSENNE_STATE_N as i32
            && next as usize <= MERSENNE_STATE_N)
        {
            return Err("Invalid mt19937 state".to_string());
        }
        let normal_y = f64::from_bits(u64_at(5024));
        let normal_is_valid = i32_at(5040) != 0;
        let next_float = f32::from_le_bytes(bytes[5048..5052].try_into().unwrap());
        let float_valid = bytes[5052] != 0;
        *self = GeneratorState {
            seed,
            left,
            seeded,
            next,
            state,
            next_float_normal_sample: float_valid.then_some(next_float),
            next_double_normal_sample: normal_is_valid.then_some(normal_y),
        };
        Ok(())
    }

    /// `at::uniform_real_distribution<float>(from, to)` via `transformation::uniform_real`:
    /// the low 24 bits of one `random()`, times 2^-24, then `x * (to - from) + from`, all in
    /// float32 (`dist_acctype<float>` is `float`). The kernel is compiled with FMA enabled and GCC
    /// contracts the last step into one fused multiply-add.
    pub(crate) fn uniform_real_f32(&mut self, from: f32, to: f32) -> f32 {
        let x = (self.random() & ((1 << 24) - 1)) as f32 * (1.0 / (1u32 << 24) as f32);
        x.mul_add(to - from, from)
    }

    /// `at::uniform_real_distribution<double>(from, to)`: the low 53 bits of one `random64()`,
    /// times 2^-53, then `x * (to - from) + from` in double (fused, as for float).
    pub(crate) fn uniform_real_f64(&mut self, from: f64, to: f64) -> f64 {
        let x = (self.random64() & ((1 << 53) - 1)) as f64 * (1.0 / (1u64 << 53) as f64);
        x.mul_add(to - from, from)
    }

    /// `at::normal_distribution<double>(mean, std)` (ATen/core/DistributionsHelper.h): returns the
    /// cached sample if there is one (and clears it); otherwise draws two doubles `u1`, `u2`,
    /// computes `r = sqrt(-2 * log1p(-u2))`, `theta = 2 * pi * u1`, caches `r * sin(theta)` and
    /// returns `r * cos(theta)`, in both cases transformed by `transformation::normal`:
    /// `val * std + mean` (fused).
    pub(crate) fn normal_f64_scalar(&mut self, mean: f64, std: f64) -> f64 {
        if let Some(cached) = self.next_double_normal_sample.take() {
            return cached.mul_add(std, mean);
        }
        let u1 = self.uniform_real_f64(0.0, 1.0);
        let u2 = self.uniform_real_f64(0.0, 1.0);
        let r = (-2.0 * (-u2).ln_1p()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u1;
        self.next_double_normal_sample = Some(r * theta.sin());
        (r * theta.cos()).mul_add(std, mean)
    }
}

/// Fills `out` like `torch.randint(low, high, size)` with the default int64 dtype: ATen
/// `random_from_to_kernel` with `range = high - low`, `base = low`, a serial loop of
/// `uniform_int_from_to_distribution<int64_t>` (ATen/core/DistributionsHelper.h). In the public
/// builds (`#ifndef FBCODE_CAFFE2`) the draw is `random64()` when `range >= 2^28` and `random()`
/// (one 32-bit draw) otherwise, for every dtype; each element is `draw % range + low`.
/// (Meta-internal builds use `range >= 2^32` and only for int64/double/float/bfloat16; the
/// public wheels that produced the fixtures use 2^28, confirmed on torch 2.15.)
///
/// For a float32/float64 result dtype the draws and the modulo are identical and the int64 value
/// is then cast to the float type (rounding for magnitudes above 2^24 / 2^53; torch warns when
/// `high - 1` exceeds that range and shifts `low`/`high` only if they are not representable).
/// Panics if `high <= low` (torch raises "random_ expects 'from' to be less than 'to'").
pub fn randint(g: &mut GeneratorState, out: &mut [i64], low: i64, high: i64) {
    assert!(
        low < high,
        "randint expects low < high, got low={low}, high={high}"
    );
    let range = high.wrapping_sub(low) as u64;
    for v in out.iter_mut() {
        let draw = if range >= 1 << 28 {
            g.random64()
        } else {
            g.random() as u64
        };
        *v = (draw % range).wrapping_add(low as u64) as i64;
    }
}

/// Returns `torch.randperm(n)` (int64, CPU): ATen `randperm_cpu` (native/TensorFactories.cpp).
/// For `n < u32::MAX / 20` (every size that fits in memory in practice) it starts from the
/// identity and, for `i` in `0..n-1`, swaps position `i` with `i + random() % (n - i)` (one
/// 32-bit draw per step, `n - 1` draws in total). For larger `n` PyTorch switches to an
/// "inside-out" Fisher–Yates with `random64() % (i + 1)`, which is reproduced as well.
pub fn randperm(g: &mut GeneratorState, n: usize) -> Vec<i64> {
    let mut r: Vec<i64> = (0..n as i64).collect();
    if (n as u64) < u64::from(u32::MAX / 20) {
        for i in 0..n.saturating_sub(1) {
            let z = (g.random() as u64 % (n - i) as u64) as usize;
            r.swap(i, i + z);
        }
    } else {
        for i in 0..n {
            let z = (g.random64() % (i as u64 + 1)) as usize;
            r[i] = r[z];
            r[z] = i as i64;
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::cpu::random::{normal_f32, normal_f64};

    #[test]
    fn mt19937_default_seed_matches_std() {
        let mut g = GeneratorState::new(5489);
        assert_eq!(g.random(), 3_499_211_612);
        // The 10000th output of std::mt19937 with the default seed (C++11 [rand.predef]).
        let mut g = GeneratorState::default();
        let mut last = 0;
        for _ in 0..10_000 {
            last = g.random();
        }
        assert_eq!(last, 4_123_659_995);
    }

    #[test]
    fn random64_joins_two_draws() {
        let mut a = GeneratorState::new(7);
        let mut b = GeneratorState::new(7);
        let hi = a.random() as u64;
        let lo = a.random() as u64;
        assert_eq!(b.random64(), (hi << 32) | lo);
    }

    #[test]
    fn state_round_trip_keeps_cached_normal() {
        let mut g = GeneratorState::new(42);
        let mut buf = [0f64; 1];
        normal_f64(&mut g, &mut buf, 0.0, 1.0, true);
        assert!(g.next_double_normal_sample.is_some());
        let saved = g.get_state();
        assert_eq!(saved.len(), STATE_BYTES);
        let mut a = [0f32; 40];
        normal_f32(&mut g, &mut a, 0.0, 1.0, false);
        let mut h = GeneratorState::new(1);
        h.set_state(&saved).unwrap();
        let mut b = [0f32; 40];
        normal_f32(&mut h, &mut b, 0.0, 1.0, false);
        assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits));
        assert_eq!(h.initial_seed(), 42);
    }

    #[test]
    fn set_state_rejects_bad_blobs() {
        let mut g = GeneratorState::new(3);
        assert!(g.set_state(&[0u8; 10]).is_err());
        let mut bytes = g.get_state();
        bytes[8..12].copy_from_slice(&0i32.to_le_bytes()); // left = 0
        assert!(g.set_state(&bytes).is_err());
        assert_eq!(g, GeneratorState::new(3));
    }

    #[test]
    fn randperm_is_a_permutation() {
        let mut g = GeneratorState::new(0);
        let mut p = randperm(&mut g, 257);
        p.sort_unstable();
        assert_eq!(p, (0..257).collect::<Vec<i64>>());
        assert!(randperm(&mut g, 0).is_empty());
    }

    #[test]
    fn randint_large_range_uses_random64() {
        let mut a = GeneratorState::new(9);
        let mut b = GeneratorState::new(9);
        let mut out = [0i64; 3];
        randint(&mut a, &mut out, 0, 1 << 40);
        for &v in &out {
            assert_eq!(v as u64, b.random64() % (1 << 40));
        }
    }
}
