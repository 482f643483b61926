//! Arrow schemas and record batches of the three tables: `reports`, `facts`, and the
//! wide `report_tables`.

use std::sync::Arc;

use anyhow::Result;
use arrow_array::builder::{Float64Builder, ListBuilder, StringBuilder, StructBuilder};
use arrow_array::{ArrayRef, BooleanArray, Date32Array, Float32Array, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use chrono::NaiveDate;
use rustc_hash::FxHashMap;

use super::keys::wide_columns;
use super::{CoverageRecord, ReportRow, ReportWithFacts};
use crate::extract::CheckFailure;

fn list_of_strings() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

pub fn reports_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("report_id", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        Field::new("is_current", DataType::Boolean, false),
        Field::new("url", DataType::Utf8, false),
        Field::new("title", DataType::Utf8, false),
        Field::new("agency", DataType::Utf8, false),
        Field::new("division_code", DataType::Utf8, true),
        Field::new("province_code", DataType::Utf8, true),
        Field::new("admin_level", DataType::Utf8, false),
        Field::new("format", DataType::Utf8, false),
        Field::new("published_date", DataType::Date32, true),
        Field::new("source_type", DataType::Utf8, false),
        Field::new("encoding", DataType::Utf8, false),
        Field::new("fetched_at", DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), false),
        Field::new("content_sha256", DataType::Utf8, false),
        Field::new("n_facts", DataType::Int64, false),
        Field::new("checks_failed", list_of_strings(), false),
        Field::new("checks_failed_detail", DataType::List(Arc::new(Field::new("item", DataType::Struct(check_fields()), true))), false),
        Field::new("warnings", list_of_strings(), false),
        Field::new("text", DataType::Utf8, false),
    ]))
}

/// A failed identity as a struct: which, where, and its two sides.
fn check_fields() -> Fields {
    Fields::from(vec![
        Field::new("check", DataType::Utf8, false),
        Field::new("scope", DataType::Utf8, false),
        Field::new("left", DataType::Utf8, false),
        Field::new("left_value", DataType::Float64, false),
        Field::new("right", DataType::Utf8, false),
        Field::new("right_value", DataType::Float64, false),
    ])
}

/// Who and where the report is, before the figures: the same in every wide row.
const WIDE_IDENTITY: [&str; 9] = ["report_id", "version", "is_current", "agency", "division_code", "admin_level", "format", "published_date", "url"];

/// The subtotals researchers ask for first, over the reasons of one kind of answer:
/// (column, the `requests` rows it adds up, by their prefix).
const SUBTOTALS: [(&str, &str); 3] =
    [("requests_denied", "result.denied."), ("requests_unavailable", "result.unavailable."), ("requests_not_processed", "result.not_processed.")];

/// `report_tables`: one row per report version, the main figures as named columns,
/// then the subtotals.
pub fn report_tables_schema() -> SchemaRef {
    let reports = reports_schema();
    let mut fields: Vec<Field> = WIDE_IDENTITY.iter().map(|name| reports.field_with_name(name).expect("a reports column").clone()).collect();
    fields.extend(wide_columns().iter().map(|(_, name)| Field::new(name, DataType::Float64, true)));
    fields.extend(SUBTOTALS.iter().map(|(name, _)| Field::new(*name, DataType::Float64, true)));
    Arc::new(Schema::new(fields))
}

pub fn facts_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("report_id", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        Field::new("is_current", DataType::Boolean, false),
        Field::new("key", DataType::Utf8, false),
        Field::new("section", DataType::Utf8, false),
        Field::new("row", DataType::Utf8, false),
        Field::new("column", DataType::Utf8, false),
        Field::new("label", DataType::Utf8, false),
        Field::new("raw", DataType::Utf8, false),
        Field::new("value", DataType::Float64, true),
        Field::new("unit", DataType::Utf8, true),
        Field::new("read_by", DataType::Utf8, false),
        Field::new("confidence", DataType::Float32, true),
    ]))
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    // Arrow 59 sizes the array from the iterator's upper bound, which a filtered or
    // flattened iterator does not give.
    Arc::new(StringArray::from_iter_values(values.collect::<Vec<_>>()))
}

fn optional_strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

fn string_lists<S: AsRef<str>>(values: impl Iterator<Item = impl IntoIterator<Item = S>>) -> ArrayRef {
    let mut builder = ListBuilder::new(StringBuilder::new());
    for list in values {
        for item in list {
            builder.values().append_value(item);
        }
        builder.append(true);
    }
    Arc::new(builder.finish())
}

fn days_since_epoch(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")).num_days() as i32
}

pub fn reports_batch(items: &[&ReportWithFacts]) -> Result<RecordBatch> {
    let r = || items.iter().map(|i| &i.report);
    let columns: Vec<ArrayRef> = vec![
        strings(r().map(|x| x.report_id.as_str())),
        Arc::new(r().map(|x| Some(x.version)).collect::<Int64Array>()),
        Arc::new(r().map(|x| Some(x.is_current)).collect::<BooleanArray>()),
        strings(r().map(|x| x.url.as_str())),
        strings(r().map(|x| x.title.as_str())),
        strings(r().map(|x| x.agency.as_str())),
        optional_strings(r().map(|x| x.division_code.as_deref())),
        optional_strings(r().map(|x| x.province_code.as_deref())),
        strings(r().map(|x| x.admin_level.as_str())),
        strings(r().map(|x| x.format.as_str())),
        Arc::new(r().map(|x| x.published_date.map(days_since_epoch)).collect::<Date32Array>()),
        strings(r().map(|x| x.source_type.as_str())),
        strings(r().map(|x| x.encoding.as_str())),
        Arc::new(r().map(|x| Some(x.fetched_at.timestamp_micros())).collect::<TimestampMicrosecondArray>().with_timezone("UTC")),
        strings(r().map(|x| x.content_sha256.as_str())),
        Arc::new(items.iter().map(|i| Some(i.facts.len() as i64)).collect::<Int64Array>()),
        string_lists(r().map(|x| x.checks_failed.iter().map(ToString::to_string))),
        check_structs(r().map(|x| &x.checks_failed)),
        string_lists(r().map(|x| &x.warnings)),
        strings(r().map(|x| x.text.as_str())),
    ];
    Ok(RecordBatch::try_new(reports_schema(), columns)?)
}

fn check_structs<'a>(values: impl Iterator<Item = &'a Vec<CheckFailure>>) -> ArrayRef {
    let mut builder = ListBuilder::new(StructBuilder::from_fields(check_fields(), 0));
    for list in values {
        let structs = builder.values();
        for c in list {
            structs.field_builder::<StringBuilder>(0).expect("check").append_value(&c.check);
            structs.field_builder::<StringBuilder>(1).expect("scope").append_value(&c.scope);
            structs.field_builder::<StringBuilder>(2).expect("left").append_value(&c.left);
            structs.field_builder::<Float64Builder>(3).expect("left_value").append_value(c.left_value);
            structs.field_builder::<StringBuilder>(4).expect("right").append_value(&c.right);
            structs.field_builder::<Float64Builder>(5).expect("right_value").append_value(c.right_value);
            structs.append(true);
        }
        builder.append(true);
    }
    Arc::new(builder.finish())
}

/// The wide rows: each report's identity, then each figure column's value (null
/// when the report does not print the cell, prints it blank, or prints no number).
pub fn report_tables_batch(items: &[&ReportWithFacts]) -> Result<RecordBatch> {
    let r = || items.iter().map(|i| &i.report);
    let mut columns: Vec<ArrayRef> = vec![
        strings(r().map(|x| x.report_id.as_str())),
        Arc::new(r().map(|x| Some(x.version)).collect::<Int64Array>()),
        Arc::new(r().map(|x| Some(x.is_current)).collect::<BooleanArray>()),
        strings(r().map(|x| x.agency.as_str())),
        optional_strings(r().map(|x| x.division_code.as_deref())),
        strings(r().map(|x| x.admin_level.as_str())),
        strings(r().map(|x| x.format.as_str())),
        Arc::new(r().map(|x: &ReportRow| x.published_date.map(days_since_epoch)).collect::<Date32Array>()),
        strings(r().map(|x| x.url.as_str())),
    ];
    let values: Vec<FxHashMap<String, f64>> = items.iter().map(|i| i.facts.iter().filter_map(|f| Some((f.key(), f.value?))).collect()).collect();
    for (key, _) in wide_columns() {
        columns.push(Arc::new(values.iter().map(|v| v.get(key).copied()).collect::<Float64Array>()));
    }
    // A subtotal of reasons none of which has a number is null, never 0.
    for (_, rows) in SUBTOTALS {
        let of = |v: &FxHashMap<String, f64>| {
            let parts: Vec<f64> =
                v.iter().filter(|(k, _)| k.strip_prefix("requests/").is_some_and(|r| r.starts_with(rows) && r.ends_with("/total"))).map(|(_, x)| *x).collect();
            (!parts.is_empty()).then(|| parts.iter().sum())
        };
        columns.push(Arc::new(values.iter().map(of).collect::<Float64Array>()));
    }
    Ok(RecordBatch::try_new(report_tables_schema(), columns)?)
}

pub fn facts_batch(items: &[&ReportWithFacts]) -> Result<RecordBatch> {
    let facts = || items.iter().flat_map(|i| i.facts.iter().map(move |f| (&i.report, f)));
    let mut keys = StringBuilder::new();
    let mut key = String::new();
    for (_, f) in facts() {
        key.clear();
        f.push_key(&mut key);
        keys.append_value(&key);
    }
    let columns: Vec<ArrayRef> = vec![
        strings(facts().map(|(r, _)| r.report_id.as_str())),
        Arc::new(facts().map(|(r, _)| Some(r.version)).collect::<Int64Array>()),
        Arc::new(facts().map(|(r, _)| Some(r.is_current)).collect::<BooleanArray>()),
        Arc::new(keys.finish()),
        strings(facts().map(|(_, f)| f.section)),
        strings(facts().map(|(_, f)| f.row)),
        strings(facts().map(|(_, f)| f.column)),
        strings(facts().map(|(_, f)| f.label.as_str())),
        strings(facts().map(|(_, f)| f.raw.as_str())),
        Arc::new(facts().map(|(_, f)| f.value).collect::<Float64Array>()),
        optional_strings(facts().map(|(_, f)| f.unit.as_deref())),
        strings(facts().map(|(_, f)| f.read_by.as_str())),
        Arc::new(facts().map(|(_, f)| f.confidence).collect::<Float32Array>()),
    ];
    Ok(RecordBatch::try_new(facts_schema(), columns)?)
}

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

pub fn coverage_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("agency", DataType::Utf8, false),
        Field::new("division_code", DataType::Utf8, true),
        Field::new("admin_level", DataType::Utf8, false),
        Field::new("host", DataType::Utf8, false),
        Field::new("seed", DataType::Utf8, false),
        Field::new("column_url", DataType::Utf8, true),
        Field::new("status", DataType::Utf8, false),
        Field::new("report_id", DataType::Utf8, true),
        Field::new("published_date", DataType::Date32, true),
        Field::new("deadline", DataType::Date32, false),
        Field::new("days_late", DataType::Int64, true),
        Field::new("first_seen", utc_micros(), true),
        Field::new("last_seen", utc_micros(), true),
        Field::new("removed_at", utc_micros(), true),
        Field::new("evidence", DataType::Utf8, false),
    ]))
}

/// An RFC 3339 time from the state as microseconds since the epoch.
fn micros(time: Option<&str>) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(time?).ok().map(|t| t.timestamp_micros())
}

pub fn coverage_batch(records: &[&CoverageRecord]) -> Result<RecordBatch> {
    let r = || records.iter().map(|c| &c.row);
    let seen = |get: fn(&crate::state::Sighting) -> Option<&str>| -> ArrayRef {
        Arc::new(r().map(|x| micros(x.sighting.as_ref().and_then(get))).collect::<TimestampMicrosecondArray>().with_timezone("UTC"))
    };
    let columns: Vec<ArrayRef> = vec![
        strings(r().map(|x| &*x.agency)),
        optional_strings(records.iter().map(|c| c.division_code)),
        strings(records.iter().map(|c| c.admin_level)),
        strings(r().map(|x| &*x.host)),
        strings(r().map(|x| &*x.seed)),
        optional_strings(r().map(|x| x.column_url.as_deref())),
        strings(r().map(|x| x.status.as_str())),
        optional_strings(r().map(|x| x.report_id.as_deref())),
        Arc::new(r().map(|x| x.published_date.map(days_since_epoch)).collect::<Date32Array>()),
        Arc::new(r().map(|x| Some(days_since_epoch(x.deadline))).collect::<Date32Array>()),
        Arc::new(r().map(|x| x.days_late).collect::<Int64Array>()),
        seen(|s| Some(s.first_seen.as_str())),
        seen(|s| Some(s.last_seen.as_str())),
        seen(|s| s.removed_at.as_deref()),
        strings(r().map(|x| &*x.evidence)),
    ];
    Ok(RecordBatch::try_new(coverage_schema(), columns)?)
}
