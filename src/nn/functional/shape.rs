//! Shape and resampling: `F.pad`, `F.interpolate`, `F.pixel_shuffle`, `F.normalize`, `F.one_hot`, `F.dropout1d/2d`, `F.embedding_bag`.
