//! `--save` and `--load`: a model's state dict as `.safetensors` or `.pt`, the files
//! `safetensors.torch.save_file(model.state_dict(), path)` and `torch.save(model.state_dict(),
//! path)` write, so a model trained in PyTorch with the same architecture loads here too.

use super::flags::{CheckpointFormat, checkpoint_format};
use flambeau::nn::Module;
use flambeau::serialization;
use std::path::Path;

/// Saves `model.state_dict()` in the format the extension names.
pub fn save<M: Module>(model: &M, path: &Path) -> Result<(), String> {
    let sd = model.state_dict();
    let result = match checkpoint_format("--save", path)? {
        CheckpointFormat::Safetensors => serialization::save_safetensors(&sd, path),
        CheckpointFormat::Pt => serialization::save(&sd, path),
    };
    result.map_err(|e| format!("cannot save {}: {e}", path.display()))
}

/// Loads a state dict into `model` (strictly: every key present, no extra, the same shapes).
pub fn load<M: Module>(model: &M, path: &Path) -> Result<(), String> {
    let fail = |e: flambeau::Error| format!("cannot load {}: {e}", path.display());
    let sd = match checkpoint_format("--load", path)? {
        CheckpointFormat::Safetensors => serialization::load_safetensors(path).map_err(fail)?,
        CheckpointFormat::Pt => serialization::load(path)
            .and_then(|v| v.to_state_dict())
            .map_err(fail)?,
    };
    model.load_state_dict(&sd, true).map_err(fail)?;
    Ok(())
}
