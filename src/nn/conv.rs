//! Convolution layers: `nn.Conv1d`, `nn.Conv2d`, `nn.ConvTranspose1d`, `nn.ConvTranspose2d`, `nn.Unfold`, `nn.Fold`.
