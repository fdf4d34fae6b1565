//! Entity tables, quantization, and the delta encoding between two ticks' tables. Pure.

mod delta;
mod quant;
mod table;

pub use delta::{
    apply, encode_body, encode_snapshot_frame, required_base, ApplyError, DeltaEncoder,
};
pub use quant::{angle_from_q, angle_to_q, pos_from_q, pos_to_q, POS_SCALE};
pub use table::{EntityTable, Row, MAX_FIELDS};
