//! Forward hooks and forward pre-hooks on modules, with removable handles.
