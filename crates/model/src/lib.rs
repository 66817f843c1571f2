//! Pure domain types: areas, events, the taxonomy and the workflow states.
//!
//! Nothing here does IO; the store, the index and the HTTP layer all speak these types.

mod access;
mod area;
mod bbox;
mod event;
pub mod geojson;
pub mod privacy;
pub mod register;
pub mod sealed;
mod taxonomy;
pub mod wkb;
pub mod worker;
mod workflow;

pub use access::{Principal, Role, hash, hex, new_secret};
pub use area::{Area, AreaRecord, Level};
pub use bbox::BBox;
pub use event::{
    ESCALATION_LEVELS, Event, EventRecord, NewEvent, Status, StatusFilter, image_type,
};
pub use taxonomy::{Category, Subcategory, Taxonomy, TaxonomyError};
pub use workflow::Action;

/// Longitude/latitude validation shared by every entry point.
///
/// Returns a message suitable for a 4xx response when the pair is not a WGS84 position.
pub fn check_lon_lat(lon: f64, lat: f64) -> Result<(), String> {
    if !lon.is_finite() || !lat.is_finite() {
        return Err("lon and lat must be finite numbers".into());
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err(format!("lon {lon} is outside [-180, 180]"));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(format!("lat {lat} is outside [-90, 90]"));
    }
    Ok(())
}
