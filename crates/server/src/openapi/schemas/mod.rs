//! The JSON bodies, as types that describe them (never built: the handlers build their
//! answers themselves).
#![allow(dead_code)]

mod common;
mod events;
mod maps;
mod open311;
mod plans;

pub use common::*;
pub use events::*;
pub use maps::*;
pub use open311::*;
pub use plans::*;

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::{OpenApi, ToSchema};

/// Every schema of the document (nested ones are collected).
#[derive(OpenApi)]
#[openapi(components(schemas(
    Error,
    Health,
    Ready,
    Located,
    AreaFeature,
    AreaCollection,
    EventCollection,
    CaseFeature,
    NewReport,
    ReportedFeature,
    Transition,
    PatrolStart,
    PatrolPoints,
    PatrolEnd,
    NewVisitBody,
    Stats,
    ExportCollection,
    TileCatalog,
    TileJson,
    PlanList,
    NewPlan,
    PlanDraft,
    PlanOperation,
    ValidationReport,
    Published,
    PlanAnswer,
    Open311Errors,
    Open311Discovery,
    Open311Services,
    Open311ServiceDefinition,
    Open311Requests,
    Open311NewRequest,
    Open311Created,
    Open311Tokens,
)))]
pub struct Components;
