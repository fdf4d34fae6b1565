//! Quantization: world floats to the integers the wire carries, and back.

use std::f32::consts::TAU;

/// Positions travel in 1/16 of a world unit: the largest arena (4096 units) fits in 16 bits,
/// and a walker's per-tick step (about 107 sixteenths at 30 Hz) is a one- or two-byte delta.
pub const POS_SCALE: f32 = 16.0;

/// Angles travel as 1/1024 of a turn (0.35 degrees), in 0..1024.
const ANGLE_STEPS: f32 = 1024.0;

/// World units to sixteenths, rounding to nearest. Non-finite input becomes 0 (never panics).
pub fn pos_to_q(v: f32) -> i32 {
    if v.is_finite() {
        (v * POS_SCALE).round() as i32
    } else {
        0
    }
}

pub fn pos_from_q(q: i32) -> f32 {
    q as f32 / POS_SCALE
}

/// Radians to 1/1024 turns in 0..1024.
pub fn angle_to_q(a: f32) -> i32 {
    if !a.is_finite() {
        return 0;
    }
    let turns = (a / TAU).rem_euclid(1.0);
    ((turns * ANGLE_STEPS).round() as i32) % ANGLE_STEPS as i32
}

pub fn angle_from_q(q: i32) -> f32 {
    q as f32 / ANGLE_STEPS * TAU
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn position_error_is_at_most_half_a_step(v in -5000.0f32..5000.0) {
            let back = pos_from_q(pos_to_q(v));
            prop_assert!((back - v).abs() <= 0.5 / POS_SCALE + 1e-3);
        }

        #[test]
        fn angle_stays_in_range_and_close(a in -100.0f32..100.0) {
            let q = angle_to_q(a);
            prop_assert!((0..1024).contains(&q));
            let back = angle_from_q(q);
            let diff = (back - a).rem_euclid(TAU);
            let diff = diff.min(TAU - diff);
            prop_assert!(diff <= TAU / 2048.0 + 1e-3);
        }
    }

    #[test]
    fn non_finite_inputs_quantize_to_zero() {
        assert_eq!(pos_to_q(f32::NAN), 0);
        assert_eq!(pos_to_q(f32::INFINITY), 0);
        assert_eq!(angle_to_q(f32::NEG_INFINITY), 0);
    }

    #[test]
    fn world_bounds_fit_sixteen_bits() {
        assert!(pos_to_q(2000.0) < i16::MAX as i32);
        assert_eq!(pos_to_q(2000.0), 32000);
    }
}
