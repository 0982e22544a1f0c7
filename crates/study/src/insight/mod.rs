//! Insight: what the experiment's factors did, what the curves say, what the digits show.

pub mod confusion;
pub mod curves;
pub mod dist;
pub mod factors;
pub mod linear_model;
pub mod mixed;
pub mod plan;
pub mod rounds;
pub mod sequential;
pub mod stats;
pub mod strata;
