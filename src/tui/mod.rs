//! The terminal UI, in layers (each module uses only those above it in this list):
//! `theme` and `state` (what is shown), `keys` and `hits` (keys and click areas), `widgets`
//! (drawing pieces), `views` (each view's state, keys and drawing), `app` (the one `update`,
//! routing), `ui` (the frame around the views), `runtime` (terminal, threads, I/O).

/// The modules of `tui` by rank, lowest first: an import may only point to a lower rank
/// (checked by `tests/layers.rs`, as the crate's `LAYERS` are).
pub const LAYERS: &[&[&str]] = &[
    &["theme", "state"],
    &["keys", "hits"],
    &["widgets"],
    &["views"],
    &["app"],
    &["ui"],
    &["runtime"],
];

pub mod app;
pub mod hits;
pub mod keys;
pub mod runtime;
pub mod state;
pub mod theme;
pub mod ui;
pub mod views;
pub mod widgets;
