//! Property-test input: arbitrary JSON whose object keys are often the ones a parser
//! looks for, so the tests reach past the first missing field.

use proptest::prelude::*;
use serde_json::Value;

/// JSON values up to `depth` deep, with object keys drawn from `keys` or random.
pub(crate) fn json_with_keys(keys: &'static [&'static str], depth: u32) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    let key = prop_oneof![
        prop::sample::select(keys).prop_map(str::to_owned),
        ".{0,8}".prop_map(|key: String| key),
    ];
    leaf.prop_recursive(depth, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
    .boxed()
}
