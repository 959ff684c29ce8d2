//! Reading event items back: one partition of the table, or one day of the time index, all pages,
//! in sort-key order, with an optional filter on the event name and on errors.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::error::{AwsTarget, CliError, aws_error};
use super::output::text;
use super::time_range::TimeBound;

/// An item as DynamoDB returns it.
pub type TableItem = HashMap<String, AttributeValue>;

pub use crate::time_index::{DAY_ATTRIBUTE, TIME_INDEX};

/// Which partition a query reads: a table partition (`pk`) or a day of the time index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionKey {
    /// `ROOM#…`, `USER#…` or `RESOURCE#…`.
    Table(String),
    /// `YYYY-MM-DD`.
    Day(String),
}

impl PartitionKey {
    fn attribute(&self) -> &'static str {
        match self {
            PartitionKey::Table(_) => crate::item::PARTITION_KEY,
            PartitionKey::Day(_) => DAY_ATTRIBUTE,
        }
    }

    fn value(&self) -> &str {
        match self {
            PartitionKey::Table(value) | PartitionKey::Day(value) => value,
        }
    }

    fn index(&self) -> Option<&'static str> {
        match self {
            PartitionKey::Table(_) => None,
            PartitionKey::Day(_) => Some(TIME_INDEX),
        }
    }
}

/// The key condition of a query and its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCondition {
    pub expression: &'static str,
    /// `#pk` stands for the partition key's name (`day` is a reserved word of DynamoDB).
    pub partition_key_name: &'static str,
    pub values: Vec<(&'static str, String)>,
}

/// `#pk = :pk`, with `sk` between, from or up to the bounds.
pub fn key_condition(
    partition: &PartitionKey,
    from: Option<&TimeBound>,
    to: Option<&TimeBound>,
) -> KeyCondition {
    let mut values = vec![(":pk", partition.value().to_owned())];
    let expression = match (from, to) {
        (Some(from), Some(to)) => {
            values.push((":from", from.lower_sort_key()));
            values.push((":to", to.upper_sort_key()));
            "#pk = :pk AND sk BETWEEN :from AND :to"
        }
        (Some(from), None) => {
            values.push((":from", from.lower_sort_key()));
            "#pk = :pk AND sk >= :from"
        }
        (None, Some(to)) => {
            values.push((":to", to.upper_sort_key()));
            "#pk = :pk AND sk <= :to"
        }
        (None, None) => "#pk = :pk",
    };
    KeyCondition {
        expression,
        partition_key_name: partition.attribute(),
        values,
    }
}

/// `--event NAME` and `--errors`: which events are shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub event_name: Option<String>,
    pub errors_only: bool,
}

impl EventFilter {
    /// Whether an item read back passes the filter.
    pub fn matches(&self, item: &TableItem) -> bool {
        let name_matches = self
            .event_name
            .as_deref()
            .is_none_or(|name| text(item, "event_name") == name);
        let error_matches = !self.errors_only || !text(item, "error_code").is_empty();
        name_matches && error_matches
    }

    /// The same filter as a DynamoDB `FilterExpression`, with its values (none when empty).
    pub fn expression(&self) -> Option<(String, Vec<(&'static str, String)>)> {
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        if let Some(name) = &self.event_name {
            conditions.push("event_name = :event_name");
            values.push((":event_name", name.clone()));
        }
        if self.errors_only {
            conditions.push("attribute_exists(error_code)");
        }
        (!conditions.is_empty()).then(|| (conditions.join(" AND "), values))
    }
}

/// One query: a partition, a range of sort keys, a filter and at most `limit` items.
#[derive(Debug, Clone)]
pub struct QuerySpec<'a> {
    pub partition: PartitionKey,
    pub from: Option<&'a TimeBound>,
    pub to: Option<&'a TimeBound>,
    pub filter: &'a EventFilter,
    pub limit: Option<usize>,
    /// Items per request (DynamoDB's `Limit`, counted before the filter).
    pub page_size: Option<usize>,
}

/// The table, read with `Query` only.
pub struct TableReader {
    pub client: aws_sdk_dynamodb::Client,
    pub table_name: String,
    pub region: String,
}

impl TableReader {
    /// Every item of the query, all pages, in sort-key order (at most `limit`).
    pub async fn query_all(&self, spec: &QuerySpec<'_>) -> Result<Vec<TableItem>, CliError> {
        let condition = key_condition(&spec.partition, spec.from, spec.to);
        let filter = spec.filter.expression();
        let resource = match spec.partition.index() {
            Some(index) => format!("index {index} of table {}", self.table_name),
            None => format!("table {}", self.table_name),
        };
        let target = AwsTarget {
            resource: &resource,
            region: &self.region,
        };
        // Paged by hand rather than with the SDK's paginator, which sends one fixed request: here
        // each page's Limit shrinks to the items still wanted, so that `--limit 10` reads no more.
        let mut items = Vec::new();
        let mut start_key = None;
        loop {
            let remaining = spec.limit.map(|limit| limit.saturating_sub(items.len()));
            let mut request = self
                .client
                .query()
                .table_name(&self.table_name)
                .set_index_name(spec.partition.index().map(str::to_owned))
                .key_condition_expression(condition.expression)
                .expression_attribute_names("#pk", condition.partition_key_name)
                .scan_index_forward(true)
                .set_exclusive_start_key(start_key.take());
            for (name, value) in &condition.values {
                request =
                    request.expression_attribute_values(*name, AttributeValue::S(value.clone()));
            }
            if let Some((expression, values)) = &filter {
                request = request.filter_expression(expression);
                for (name, value) in values {
                    request = request
                        .expression_attribute_values(*name, AttributeValue::S(value.clone()));
                }
            }
            // DynamoDB's Limit counts items before the filter: only without one may the items
            // still wanted bound a page.
            let wanted = if filter.is_some() { None } else { remaining };
            if let Some(page_items) = [wanted, spec.page_size].into_iter().flatten().min() {
                request = request.limit(i32::try_from(page_items).unwrap_or(i32::MAX));
            }
            let page = request
                .send()
                .await
                .map_err(|error| aws_error("query the table", &target, &error))?;
            let room = remaining.unwrap_or(usize::MAX);
            items.extend(page.items().iter().take(room).cloned());
            let full = spec.limit.is_some_and(|limit| items.len() >= limit);
            match page.last_evaluated_key() {
                Some(key) if !full => start_key = Some(key.clone()),
                _ => break,
            }
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::time_range::parse_time_bound;

    fn bound(text: &str) -> TimeBound {
        parse_time_bound(text).unwrap()
    }

    #[test]
    fn both_bounds_make_a_between() {
        let condition = key_condition(
            &PartitionKey::Table("ROOM#r".into()),
            Some(&bound("2023-05-01")),
            Some(&bound("2023-05-31")),
        );
        assert_eq!(
            condition.expression,
            "#pk = :pk AND sk BETWEEN :from AND :to"
        );
        assert_eq!(condition.partition_key_name, "pk");
        assert_eq!(
            condition.values,
            vec![
                (":pk", "ROOM#r".to_owned()),
                (":from", "2023-05-01T00:00:00Z".to_owned()),
                (":to", "2023-05-31T23:59:59Z$".to_owned()),
            ]
        );
    }

    #[test]
    fn one_bound_makes_a_comparison_and_none_the_whole_partition() {
        let user = PartitionKey::Table("USER#u".into());
        let from = key_condition(&user, Some(&bound("2023-05-01")), None);
        assert_eq!(from.expression, "#pk = :pk AND sk >= :from");
        let to = key_condition(&user, None, Some(&bound("2023-05-01T12:00:00Z")));
        assert_eq!(to.expression, "#pk = :pk AND sk <= :to");
        assert_eq!(to.values[1], (":to", "2023-05-01T12:00:00Z$".to_owned()));
        let all = key_condition(&user, None, None);
        assert_eq!(all.expression, "#pk = :pk");
        assert_eq!(all.values.len(), 1);
    }

    #[test]
    fn a_day_is_a_partition_of_the_time_index() {
        let day = PartitionKey::Day("2023-05-01".into());
        let condition = key_condition(&day, Some(&bound("2023-05-01")), None);
        assert_eq!(condition.partition_key_name, DAY_ATTRIBUTE);
        assert_eq!(day.index(), Some(TIME_INDEX));
        assert_eq!(PartitionKey::Table("USER#u".into()).index(), None);
    }

    fn event(name: &str, error: Option<&str>) -> TableItem {
        let mut item =
            HashMap::from([("event_name".to_owned(), AttributeValue::S(name.to_owned()))]);
        if let Some(error) = error {
            item.insert("error_code".to_owned(), AttributeValue::S(error.to_owned()));
        }
        item
    }

    #[test]
    fn the_filter_keeps_one_event_name_and_only_errors() {
        let filter = EventFilter {
            event_name: Some("DeleteRoom".into()),
            errors_only: true,
        };
        assert!(filter.matches(&event("DeleteRoom", Some("AccessDenied"))));
        assert!(!filter.matches(&event("DeleteRoom", None)));
        assert!(!filter.matches(&event("UpdateRoom", Some("AccessDenied"))));
        assert_eq!(
            filter.expression(),
            Some((
                "event_name = :event_name AND attribute_exists(error_code)".to_owned(),
                vec![(":event_name", "DeleteRoom".to_owned())]
            ))
        );
        assert!(EventFilter::default().matches(&event("X", None)));
        assert_eq!(EventFilter::default().expression(), None);
    }
}
