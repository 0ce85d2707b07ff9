//! Shape and resampling layers: `nn.Upsample`, `nn.PixelShuffle`, `nn.Dropout1d/2d`, padding modules.
