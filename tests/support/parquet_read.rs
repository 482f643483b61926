//! Reading the dataset back the way a researcher's tool would: every part file,
//! with province and year taken from the directory names.

use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// One table's rows as (province, year, batch) per part file.
pub fn read_table(out: &Path, table: &str) -> Vec<(String, String, RecordBatch)> {
    let mut rows = Vec::new();
    for (path, province, year) in nianbao::dataset::stats::part_files(&out.join(table)).unwrap() {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap().build().unwrap();
        for batch in reader {
            rows.push((province.clone(), year.clone(), batch.unwrap()));
        }
    }
    rows
}

pub fn string(batch: &RecordBatch, column: &str, row: usize) -> Option<String> {
    let col = batch.column_by_name(column).unwrap().as_string::<i32>();
    (!col.is_null(row)).then(|| col.value(row).to_string())
}

pub fn float(batch: &RecordBatch, column: &str, row: usize) -> Option<f64> {
    let col = batch.column_by_name(column).unwrap().as_primitive::<Float64Type>();
    (!col.is_null(row)).then(|| col.value(row))
}

pub fn strings_list(batch: &RecordBatch, column: &str, row: usize) -> Vec<String> {
    let list = batch.column_by_name(column).unwrap().as_list::<i32>().value(row);
    list.as_string::<i32>().iter().flatten().map(str::to_string).collect()
}

pub fn int(batch: &RecordBatch, column: &str, row: usize) -> Option<i64> {
    let col = batch.column_by_name(column).unwrap().as_primitive::<arrow_array::types::Int64Type>();
    (!col.is_null(row)).then(|| col.value(row))
}

/// A timestamp column's value, in microseconds since the epoch.
pub fn timestamp(batch: &RecordBatch, column: &str, row: usize) -> Option<String> {
    let col = batch.column_by_name(column).unwrap().as_primitive::<arrow_array::types::TimestampMicrosecondType>();
    (!col.is_null(row)).then(|| col.value(row).to_string())
}
