//! Shared pieces of the PyTorch parity harness: locating and reading the fixtures, turning JSON
//! tensors into Flambeau tensors, comparing results, and counting outcomes.

pub mod breadth;
pub mod breadth_index;
pub mod breadth_linalg;
pub mod breadth_select;
pub mod data;
pub mod eval;
pub mod higher_order;
pub mod interop;
pub mod layers;
pub mod modules;
pub mod nn;
// Module strings of ops.json's module cases (they have no `module_expr`).
pub mod pyexpr;

use flambeau::{DType, Tensor};
use serde_json::Value as Json;
use std::path::PathBuf;

/// The fixture folder: `$FLAMBEAU_TORCH_FIXTURES`, else the verbatim copy of PyTorch's fixtures the
/// repository carries (`tests/fixtures/torch`; `.ci/run` checks it equals `../shared/fixtures/torch`).
pub fn fixtures_dir() -> PathBuf {
    if let Ok(p) = std::env::var("FLAMBEAU_TORCH_FIXTURES") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch")
}

/// Reads one fixture file, with a clear message when it is missing.
pub fn load(name: &str) -> Json {
    let path = fixtures_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the PyTorch fixture {}: {e}. Set FLAMBEAU_TORCH_FIXTURES to the fixtures folder.",
            path.display()
        )
    });
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

pub fn dtype_of(name: &str) -> DType {
    match name {
        "float32" => DType::F32,
        "float64" => DType::F64,
        "int64" => DType::I64,
        "bool" => DType::Bool,
        other => panic!("unknown fixture dtype {other}"),
    }
}

/// A fixture tensor `{dtype, shape, values}` as a Flambeau tensor of its own dtype.
pub fn tensor(j: &Json) -> Tensor {
    let dtype = dtype_of(j["dtype"].as_str().expect("dtype"));
    let shape: Vec<usize> = j["shape"]
        .as_array()
        .expect("shape")
        .iter()
        .map(|d| d.as_u64().expect("dim") as usize)
        .collect();
    let values = j["values"].as_array().expect("values");
    match dtype {
        DType::F32 => Tensor::from_vec(
            values
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect::<Vec<_>>(),
            shape,
        ),
        DType::F64 => Tensor::from_vec(
            values
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect::<Vec<_>>(),
            shape,
        ),
        DType::I64 => Tensor::from_vec(
            values
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect::<Vec<_>>(),
            shape,
        ),
        DType::Bool => Tensor::from_vec(
            values
                .iter()
                .map(|v| v.as_bool().unwrap())
                .collect::<Vec<_>>(),
            shape,
        ),
    }
}

/// A case's `inputs`, float ones converted to `dtype` and those listed in `grad_inputs`
/// requiring grad: the evaluation variables and the tensors by name.
pub fn case_inputs(
    case: &Json,
    dtype: DType,
) -> (
    std::collections::HashMap<String, eval::Value>,
    std::collections::HashMap<String, Tensor>,
) {
    let grad_inputs: Vec<&str> = case["grad_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut vars = std::collections::HashMap::new();
    let mut inputs = std::collections::HashMap::new();
    for (name, j) in case["inputs"].as_object().unwrap() {
        let mut t = tensor(j);
        if t.dtype().is_float() {
            t = t.to_dtype(dtype);
        }
        if grad_inputs.contains(&name.as_str()) {
            t = t.requires_grad_(true);
        }
        vars.insert(name.clone(), eval::Value::Tensor(t.clone()));
        inputs.insert(name.clone(), t);
    }
    (vars, inputs)
}

/// Tolerance classes from the fixtures' README.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    pub rtol: f64,
    pub atol: f64,
}

pub const F64_TOL: Tol = Tol {
    rtol: 1e-10,
    atol: 1e-12,
};
pub const F32_ELEMENTWISE: Tol = Tol {
    rtol: 1e-5,
    atol: 1e-6,
};
pub const F32_REDUCTION: Tol = Tol {
    rtol: 1e-4,
    atol: 1e-5,
};

/// Compares shape, dtype and values; returns a description of the first mismatch.
pub fn compare(what: &str, got: &Tensor, want: &Tensor, tol: Tol) -> Result<(), String> {
    if got.dims() != want.dims() {
        return Err(format!(
            "{what}: shape {:?}, expected {:?}",
            got.dims(),
            want.dims()
        ));
    }
    if got.dtype() != want.dtype() {
        return Err(format!(
            "{what}: dtype {:?}, expected {:?}",
            got.dtype(),
            want.dtype()
        ));
    }
    let (g, w) = (got.to_vec::<f64>(), want.to_vec::<f64>());
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        let ok = (a - b).abs() <= tol.atol + tol.rtol * b.abs() || (a.is_nan() && b.is_nan());
        if !ok {
            return Err(format!(
                "{what}: element {i} is {a}, expected {b} (rtol {}, atol {})",
                tol.rtol, tol.atol
            ));
        }
    }
    Ok(())
}

/// Compares bit for bit (RNG streams).
pub fn compare_exact(what: &str, got: &Tensor, want: &Tensor) -> Result<(), String> {
    if got.dims() != want.dims() || got.dtype() != want.dtype() {
        return Err(format!(
            "{what}: got {:?} {:?}, expected {:?} {:?}",
            got.dtype(),
            got.dims(),
            want.dtype(),
            want.dims()
        ));
    }
    let same = match got.dtype() {
        DType::F32 => got
            .to_vec::<f32>()
            .iter()
            .map(|x| x.to_bits())
            .eq(want.to_vec::<f32>().iter().map(|x| x.to_bits())),
        DType::F64 => got
            .to_vec::<f64>()
            .iter()
            .map(|x| x.to_bits())
            .eq(want.to_vec::<f64>().iter().map(|x| x.to_bits())),
        DType::I64 => got.to_vec::<i64>() == want.to_vec::<i64>(),
        DType::Bool => got.to_vec::<bool>() == want.to_vec::<bool>(),
    };
    if same {
        Ok(())
    } else {
        Err(format!("{what}: values differ\n got  {got}\n want {want}"))
    }
}

/// Outcome counts for one fixture file.
#[derive(Default)]
pub struct Tally {
    pub passed: usize,
    pub failed: Vec<String>,
    pub unsupported: Vec<String>,
}

impl Tally {
    pub fn record(&mut self, name: &str, outcome: Outcome) {
        match outcome {
            Outcome::Pass => self.passed += 1,
            Outcome::Fail(why) => self.failed.push(format!("{name}: {why}")),
            Outcome::Unsupported(why) => self.unsupported.push(format!("{name}: {why}")),
        }
    }

    pub fn report(&self, label: &str) {
        println!(
            "{label} parity: {} passed, {} failed, {} unsupported",
            self.passed,
            self.failed.len(),
            self.unsupported.len()
        );
        for f in &self.failed {
            println!("  FAILED {f}");
        }
        for u in &self.unsupported {
            println!("  unsupported {u}");
        }
    }
}

pub enum Outcome {
    Pass,
    Fail(String),
    Unsupported(String),
}

/// Runs `f`, turning a panic into a failure message (a panic in Flambeau is a failed case).
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".to_string())
    })
}
