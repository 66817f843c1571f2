//! Schemas: Open311 GeoReport v2.

#[allow(clippy::wildcard_imports)]
use super::*;

/// An Open311 error.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Open311Error {
    /// The HTTP status.
    pub code: i64,
    pub description: String,
}

/// Open311 errors.
#[derive(ToSchema)]
pub struct Open311Errors(pub Vec<Open311Error>);

/// An Open311 endpoint.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Open311Endpoint {
    pub specification: String,
    pub url: String,
    pub changeset: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub formats: Vec<String>,
}

/// Open311 discovery.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Open311Discovery {
    pub changeset: String,
    pub contact: String,
    pub key_service: String,
    pub endpoints: Vec<Open311Endpoint>,
}

/// An Open311 service.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Open311Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    pub metadata: bool,
    #[serde(rename = "type")]
    pub kind: String,
    pub keywords: String,
    pub group: String,
}

/// Open311 services.
#[derive(ToSchema)]
pub struct Open311Services(pub Vec<Open311Service>);

/// An attribute of a service definition.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Open311Attribute {
    pub variable: bool,
    pub code: String,
    pub datatype: String,
    pub required: bool,
    #[schema(required = true)]
    pub datatype_description: Option<String>,
    pub order: i64,
    pub description: String,
}

/// An Open311 service definition.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Open311ServiceDefinition {
    pub service_code: String,
    pub attributes: Vec<Open311Attribute>,
}

/// Open311 statuses.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Open311Status {
    Open,
    Closed,
}

/// An Open311 service request (public records have no location or free text).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Open311Request {
    pub service_request_id: String,
    pub status: Open311Status,
    #[schema(required = true)]
    pub status_notes: Option<String>,
    pub service_name: String,
    pub service_code: String,
    pub description: String,
    #[schema(required = true)]
    pub agency_responsible: Option<String>,
    #[schema(required = true)]
    pub service_notice: Option<String>,
    #[schema(format = DateTime)]
    pub requested_datetime: String,
    #[schema(format = DateTime)]
    pub updated_datetime: String,
    #[schema(required = true, format = DateTime)]
    pub expected_datetime: Option<String>,
    #[schema(required = true)]
    pub address: Option<String>,
    #[schema(required = true)]
    pub address_id: Option<String>,
    #[schema(required = true)]
    pub zipcode: Option<String>,
    #[schema(required = true)]
    pub lat: Option<f64>,
    #[schema(required = true)]
    pub long: Option<f64>,
    #[schema(required = true)]
    pub media_url: Option<String>,
}

/// Open311 service requests.
#[derive(ToSchema)]
pub struct Open311Requests(pub Vec<Open311Request>);

/// A new Open311 service request (form fields).
#[derive(ToSchema)]
pub struct Open311NewRequest {
    /// A service code, e.g. `hazard.fire`.
    #[schema(examples("hazard.fire"))]
    pub service_code: String,
    /// WGS84, -90 to 90.
    #[schema(required = false, minimum = -90, maximum = 90, examples(22.79))]
    pub lat: f64,
    /// WGS84, -180 to 180.
    #[schema(required = false, minimum = -180, maximum = 180, examples(115.37))]
    pub long: f64,
    #[schema(required = false)]
    pub address_string: String,
    #[schema(required = false)]
    pub address_id: String,
    #[schema(required = false)]
    pub email: String,
    #[schema(required = false)]
    pub device_id: String,
    #[schema(required = false)]
    pub account_id: String,
    #[schema(required = false)]
    pub first_name: String,
    #[schema(required = false)]
    pub last_name: String,
    #[schema(required = false)]
    pub phone: String,
    /// At most 4,000 characters; its first line is the title.
    #[schema(required = false, max_length = 4000)]
    pub description: String,
    /// An http or https URL.
    #[schema(required = false, max_length = 2000)]
    pub media_url: String,
    /// A minqing token.
    #[schema(required = false)]
    pub api_key: String,
    #[schema(required = false)]
    pub jurisdiction_id: String,
}

/// A stored Open311 request.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Open311CreatedItem {
    pub service_request_id: String,
    pub service_notice: String,
    #[schema(required = true)]
    pub account_id: Option<String>,
}

/// The answer to a POST.
#[derive(ToSchema)]
pub struct Open311Created(pub Vec<Open311CreatedItem>);

/// A token and its request.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Open311Token {
    pub service_request_id: String,
    pub token: String,
}

/// The answer to `tokens/{token}`.
#[derive(ToSchema)]
pub struct Open311Tokens(pub Vec<Open311Token>);
