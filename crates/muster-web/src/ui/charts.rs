//! Inline SVG charts drawn from real data.
