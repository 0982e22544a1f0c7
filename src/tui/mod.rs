//! The terminal UI, in layers (each module uses only those above it in this list):
//! `theme` and `state` (what is shown), `keys` and `hits` (keys and click areas), `widgets`
//! (drawing pieces), `views` (each view's state, keys and drawing), `app` (the one `update`,
//! routing), `ui` (the frame around the views), `runtime` (terminal, threads, I/O).

pub mod app;
pub mod hits;
pub mod keys;
pub mod runtime;
pub mod state;
pub mod theme;
pub mod ui;
pub mod views;
pub mod widgets;
