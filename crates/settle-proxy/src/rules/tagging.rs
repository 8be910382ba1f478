//! The Resource Groups Tagging API view (`tagging` GetResources) lags behind tag
//! changes: during the lag, the view shows each changed resource with its pre-write
//! tags (or not at all, if it had none), and tag filters are applied to that old view.

use serde_json::Value;

use super::Key;

/// The `ResourceTypeFilters` entry for a service's tagged resources.
pub(crate) fn type_filter(service: &str) -> Option<&'static str> {
    super::for_service(service)?.tag_view.map(|view| view.type_filter)
}

/// Whether an ARN is the resource a key names (through the view of the service that writes
/// the key's class).
pub(crate) fn arn_matches(key: &Key, arn: &str) -> bool {
    super::ALL
        .iter()
        .find(|rules| rules.writes.iter().any(|w| w.class == key.class))
        .and_then(|rules| rules.tag_view)
        .is_some_and(|view| (view.names)(key, arn))
}

/// One resource whose tags lag: the key, and its entry in the old view (if it had one).
#[derive(Debug, Clone)]
pub(crate) struct Lagging {
    pub key: Key,
    pub old: Option<Value>,
}

/// Finds a key's entry in GetResources pages.
pub(crate) fn find_entry(pages: &[Value], key: &Key) -> Option<Value> {
    pages
        .iter()
        .filter_map(|p| p.get("ResourceTagMappingList")?.as_array())
        .flatten()
        .find(|e| e.get("ResourceARN").and_then(|a| a.as_str()).is_some_and(|arn| arn_matches(key, arn)))
        .cloned()
}

fn tags_match(entry: &Value, filters: &[Value]) -> bool {
    let tags: Vec<(&str, &str)> = entry
        .get("Tags")
        .and_then(|t| t.as_array())
        .map(|t| {
            t.iter()
                .filter_map(|t| Some((t.get("Key")?.as_str()?, t.get("Value")?.as_str().unwrap_or(""))))
                .collect()
        })
        .unwrap_or_default();
    filters.iter().all(|f| {
        let key = f.get("Key").and_then(|k| k.as_str()).unwrap_or("");
        let values: Vec<&str> = f
            .get("Values")
            .and_then(|v| v.as_array())
            .map(|v| v.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        tags.iter().any(|(k, v)| *k == key && (values.is_empty() || values.contains(v)))
    })
}

fn type_matches(arn: &str, filters: &[Value]) -> bool {
    if filters.is_empty() {
        return true;
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let (service, resource) = (parts.get(2).copied().unwrap_or(""), parts.get(5).copied().unwrap_or(""));
    filters.iter().filter_map(|f| f.as_str()).any(|f| match f.split_once(':') {
        Some((s, t)) => s == service && (resource.starts_with(t) || service == "s3"),
        None => f == service,
    })
}

/// Rewrites a GetResources answer to the old view of the lagging resources.
pub(crate) fn patch(body: &[u8], request: Option<&Value>, lagging: &[Lagging]) -> Option<Vec<u8>> {
    let mut value: Value = serde_json::from_slice(body).ok()?;
    let list = value.get_mut("ResourceTagMappingList")?.as_array_mut()?;
    let empty = Vec::new();
    let tag_filters = request.and_then(|r| r.get("TagFilters")).and_then(|t| t.as_array()).unwrap_or(&empty);
    let type_filters =
        request.and_then(|r| r.get("ResourceTypeFilters")).and_then(|t| t.as_array()).unwrap_or(&empty);
    let first_page =
        request.and_then(|r| r.get("PaginationToken")).and_then(|t| t.as_str()).unwrap_or("").is_empty();
    list.retain(|e| {
        let arn = e.get("ResourceARN").and_then(|a| a.as_str()).unwrap_or("");
        !lagging.iter().any(|l| arn_matches(&l.key, arn))
    });
    if first_page {
        for l in lagging {
            if let Some(old) = &l.old {
                let arn = old.get("ResourceARN").and_then(|a| a.as_str()).unwrap_or("");
                if tags_match(old, tag_filters) && type_matches(arn, type_filters) {
                    list.push(old.clone());
                }
            }
        }
    }
    serde_json::to_vec(&value).ok()
}
