//! Random numbers identical to PyTorch's CPU generator: the same seed gives the same tensors, bit
//! for bit (`torch.manual_seed`, `torch.rand`, `torch.randn`, `torch.randint`, ...).

pub(crate) mod generator;
mod multinomial;

use crate::dtype::DType;
use crate::shape::{IntList, shape_from};
use crate::tensor::Tensor;
use generator::GeneratorState;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

/// PyTorch's seed for the default CPU generator when the program starts (`default_rng_seed_val`).
pub const DEFAULT_SEED: u64 = 67280421310721;

/// A random number generator with PyTorch's CPU algorithm (`torch.Generator`): a Mersenne Twister
/// plus a cached normal sample. Clones share the same state.
///
/// ```
/// use flambeau::{Generator, Tensor, DType};
/// let g = Generator::new();
/// g.manual_seed(0);
/// let a = Tensor::rand_gen([3], DType::F32, &g);
/// g.manual_seed(0);
/// let b = Tensor::rand_gen([3], DType::F32, &g);
/// assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>());
/// ```
#[derive(Clone)]
pub struct Generator(Arc<Mutex<GeneratorState>>);

impl Generator {
    /// A generator seeded with PyTorch's default seed.
    #[track_caller]
    pub fn new() -> Generator {
        Generator(Arc::new(Mutex::new(GeneratorState::new(DEFAULT_SEED))))
    }

    /// Reseeds and clears the cached normal sample (`generator.manual_seed(seed)`); returns the
    /// generator for chaining.
    #[track_caller]
    pub fn manual_seed(&self, seed: u64) -> Generator {
        self.lock().manual_seed(seed);
        self.clone()
    }

    /// The seed last set (`generator.initial_seed()`).
    #[track_caller]
    pub fn initial_seed(&self) -> u64 {
        self.lock().initial_seed()
    }

    /// The whole state as bytes, in the layout of `torch.get_rng_state()` (5056 bytes).
    #[track_caller]
    pub fn get_state(&self) -> Vec<u8> {
        self.lock().get_state()
    }

    /// Restores a state saved by [`Generator::get_state`] (or by PyTorch's `get_rng_state`).
    /// A malformed buffer gives an error and leaves the generator unchanged.
    #[track_caller]
    pub fn set_state(&self, bytes: &[u8]) -> crate::Result<()> {
        self.lock()
            .set_state(bytes)
            .map_err(crate::Error::InvalidArgument)
    }

    #[track_caller]
    pub(crate) fn lock(&self) -> MutexGuard<'_, GeneratorState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for Generator {
    #[track_caller]
    fn default() -> Self {
        Generator::new()
    }
}

static DEFAULT_GENERATOR: LazyLock<Generator> = LazyLock::new(Generator::new);

/// The generator used when none is given (`torch.default_generator`).
#[track_caller]
pub fn default_generator() -> Generator {
    DEFAULT_GENERATOR.clone()
}

/// Seeds the default generator (`torch.manual_seed(seed)`), so that the following random calls
/// produce the same numbers as PyTorch after the same seed.
///
/// ```
/// use flambeau::{manual_seed, randn};
/// manual_seed(0);
/// let a = randn([3]);
/// manual_seed(0);
/// assert_eq!(a.to_vec::<f32>(), randn([3]).to_vec::<f32>());
/// ```
#[track_caller]
pub fn manual_seed(seed: u64) -> Generator {
    DEFAULT_GENERATOR.manual_seed(seed)
}

/// The seed of the default generator (`torch.initial_seed()`).
#[track_caller]
pub fn initial_seed() -> u64 {
    DEFAULT_GENERATOR.initial_seed()
}

/// The default generator's state (`torch.get_rng_state()`).
#[track_caller]
pub fn get_rng_state() -> Vec<u8> {
    DEFAULT_GENERATOR.get_state()
}

/// Restores the default generator's state (`torch.set_rng_state(state)`).
#[track_caller]
pub fn set_rng_state(state: &[u8]) -> crate::Result<()> {
    DEFAULT_GENERATOR.set_state(state)
}

#[track_caller]
fn check_float(dtype: DType, what: &str) {
    if !dtype.is_float() {
        panic!("\"{what}\" not implemented for '{}'", dtype.scalar_name());
    }
}

impl Tensor {
    /// Uniform samples in `[0, 1)`, float32 (`torch.rand(shape)`).
    ///
    /// ```
    /// use flambeau::{manual_seed, Tensor};
    /// manual_seed(0);
    /// let r = Tensor::rand([2]);
    /// assert_eq!(format!("{r}"), "tensor([0.4963, 0.7682])");
    /// ```
    #[track_caller]
    pub fn rand(shape: impl IntList) -> Tensor {
        Tensor::rand_gen(shape, DType::F32, &DEFAULT_GENERATOR)
    }

    /// Uniform samples in `[0, 1)` of a float dtype.
    #[track_caller]
    pub fn rand_dtype(shape: impl IntList, dtype: DType) -> Tensor {
        Tensor::rand_gen(shape, dtype, &DEFAULT_GENERATOR)
    }

    /// Uniform samples drawn from a given generator.
    #[track_caller]
    pub fn rand_gen(shape: impl IntList, dtype: DType, generator: &Generator) -> Tensor {
        check_float(dtype, "check_uniform_bounds");
        let t = Tensor::zeros_dtype(shape, dtype);
        t.uniform_gen(0.0, 1.0, generator);
        t
    }

    /// Standard normal samples, float32 (`torch.randn(shape)`).
    ///
    /// ```
    /// use flambeau::{manual_seed, Tensor};
    /// manual_seed(0);
    /// assert_eq!(format!("{}", Tensor::randn([2])), "tensor([ 1.5410, -0.2934])");
    /// ```
    #[track_caller]
    pub fn randn(shape: impl IntList) -> Tensor {
        Tensor::randn_gen(shape, DType::F32, &DEFAULT_GENERATOR)
    }

    /// Standard normal samples of a float dtype.
    #[track_caller]
    pub fn randn_dtype(shape: impl IntList, dtype: DType) -> Tensor {
        Tensor::randn_gen(shape, dtype, &DEFAULT_GENERATOR)
    }

    /// Standard normal samples drawn from a given generator.
    #[track_caller]
    pub fn randn_gen(shape: impl IntList, dtype: DType, generator: &Generator) -> Tensor {
        check_float(dtype, "normal_kernel_cpu");
        let t = Tensor::zeros_dtype(shape, dtype);
        t.normal_gen(0.0, 1.0, generator);
        t
    }

    /// Uniform random integers in `[low, high)`, int64 (`torch.randint(low, high, shape)`).
    ///
    /// ```
    /// use flambeau::{manual_seed, Tensor};
    /// manual_seed(0);
    /// assert_eq!(Tensor::randint(-5, 30, [3]).to_vec::<i64>(), vec![-1, 19, 23]);
    /// ```
    #[track_caller]
    pub fn randint(low: i64, high: i64, shape: impl IntList) -> Tensor {
        Tensor::randint_gen(low, high, shape, DType::I64, &DEFAULT_GENERATOR)
    }

    /// Random integers in `[low, high)` stored in any dtype.
    #[track_caller]
    pub fn randint_dtype(low: i64, high: i64, shape: impl IntList, dtype: DType) -> Tensor {
        Tensor::randint_gen(low, high, shape, dtype, &DEFAULT_GENERATOR)
    }

    /// Random integers drawn from a given generator.
    #[track_caller]
    pub fn randint_gen(
        low: i64,
        high: i64,
        shape: impl IntList,
        dtype: DType,
        generator: &Generator,
    ) -> Tensor {
        if low >= high {
            panic!("random_ expects 'from' to be less than 'to', but got from={low} >= to={high}");
        }
        let shape = shape_from(&shape);
        let mut v = vec![0i64; shape.numel()];
        generator::randint(&mut generator.lock(), &mut v, low, high);
        Tensor::from_vec(v, shape).to_dtype(dtype)
    }

    /// A random permutation of `0..n`, int64 (`torch.randperm(n)`).
    #[track_caller]
    pub fn randperm(n: usize) -> Tensor {
        Tensor::randperm_gen(n, &DEFAULT_GENERATOR)
    }

    /// A random permutation drawn from a given generator.
    #[track_caller]
    pub fn randperm_gen(n: usize, generator: &Generator) -> Tensor {
        let v = generator::randperm(&mut generator.lock(), n);
        Tensor::from_vec(v, [n])
    }

    /// Uniform samples with this tensor's shape and dtype (`torch.rand_like`).
    #[track_caller]
    pub fn rand_like(t: &Tensor) -> Tensor {
        Tensor::rand_dtype(t.shape(), t.dtype())
    }

    /// Normal samples with this tensor's shape and dtype (`torch.randn_like`).
    #[track_caller]
    pub fn randn_like(t: &Tensor) -> Tensor {
        Tensor::randn_dtype(t.shape(), t.dtype())
    }

    /// 0/1 samples with probabilities given by this tensor (`torch.bernoulli(p)`).
    #[track_caller]
    pub fn bernoulli(&self) -> Tensor {
        self.bernoulli_gen(&DEFAULT_GENERATOR)
    }

    /// `torch.bernoulli(p, generator=g)`.
    #[track_caller]
    pub fn bernoulli_gen(&self, generator: &Generator) -> Tensor {
        if !self.dtype().is_float() {
            panic!(
                "\"bernoulli_tensor_cpu_self_\" not implemented for '{}'",
                self.dtype().scalar_name()
            );
        }
        let storage = self
            .storage()
            .bernoulli(self.layout(), &mut generator.lock());
        Tensor::from_storage(storage, self.shape().clone())
    }

    /// Fills in place with 0/1 samples that are 1 with probability `p` (`tensor.bernoulli_(p)`),
    /// drawn as PyTorch's CPU kernel does (one 53-bit uniform per element), whatever the dtype.
    #[track_caller]
    pub fn bernoulli_scalar_(&self, p: f64) -> Tensor {
        crate::autograd::check_inplace(self, self.requires_grad());
        if !(0.0..=1.0).contains(&p) {
            panic!("bernoulli_ expects p to be in [0, 1], but got p={p}");
        }
        self.0.storage.write().bernoulli_scalar_inplace(
            self.layout(),
            &mut DEFAULT_GENERATOR.lock(),
            p,
        );
        self.bump_version();
        self.clone()
    }

    /// Fills in place with uniform samples in `[from, to)` (`tensor.uniform_(from, to)`).
    #[track_caller]
    pub fn uniform_(&self, from: f64, to: f64) -> Tensor {
        self.uniform_gen(from, to, &DEFAULT_GENERATOR)
    }

    /// `tensor.uniform_(from, to, generator=g)`.
    #[track_caller]
    pub fn uniform_gen(&self, from: f64, to: f64, generator: &Generator) -> Tensor {
        crate::autograd::check_inplace(self, self.requires_grad());
        if from > to {
            panic!(
                "uniform_ expects to return a [from, to) range, but found from={from} > to={to}"
            );
        }
        check_float(self.dtype(), "check_uniform_bounds");
        self.0
            .storage
            .write()
            .uniform_inplace(self.layout(), &mut generator.lock(), from, to);
        self.bump_version();
        self.clone()
    }

    /// Fills in place with normal samples (`tensor.normal_(mean, std)`).
    #[track_caller]
    pub fn normal_(&self, mean: f64, std: f64) -> Tensor {
        self.normal_gen(mean, std, &DEFAULT_GENERATOR)
    }

    /// `tensor.normal_(mean, std, generator=g)`.
    #[track_caller]
    pub fn normal_gen(&self, mean: f64, std: f64, generator: &Generator) -> Tensor {
        crate::autograd::check_inplace(self, self.requires_grad());
        if std < 0.0 {
            panic!("normal expects std >= 0.0, but found std {std}");
        }
        check_float(self.dtype(), "normal_kernel_cpu");
        self.0
            .storage
            .write()
            .normal_inplace(self.layout(), &mut generator.lock(), mean, std);
        self.bump_version();
        self.clone()
    }
}

/// `torch.rand(shape)`: uniform samples in `[0, 1)`, float32.
#[track_caller]
pub fn rand(shape: impl IntList) -> Tensor {
    Tensor::rand(shape)
}

/// `torch.randn(shape)`: standard normal samples, float32.
///
/// ```
/// use flambeau::{manual_seed, randint, randn, DType};
/// manual_seed(0);
/// let x = randint(-5, 30, [11]).to_dtype(DType::F32);
/// let y = 0.5 * &x + 30.0 + randn([11]);
/// assert_eq!(y.dims(), &[11]);
/// ```
#[track_caller]
pub fn randn(shape: impl IntList) -> Tensor {
    Tensor::randn(shape)
}

/// `torch.randint(low, high, shape)`: random integers in `[low, high)`, int64.
#[track_caller]
pub fn randint(low: i64, high: i64, shape: impl IntList) -> Tensor {
    Tensor::randint(low, high, shape)
}

/// `torch.randperm(n)`: a random permutation of `0..n`.
#[track_caller]
pub fn randperm(n: usize) -> Tensor {
    Tensor::randperm(n)
}

/// `torch.bernoulli(p)`: 0/1 samples with the given probabilities.
#[track_caller]
pub fn bernoulli(p: &Tensor) -> Tensor {
    p.bernoulli()
}
