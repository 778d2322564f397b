//! [`SmallMap`]: the model's maps from text keys (locales, property names) to
//! values. They hold a handful of entries, so a vector kept in key order
//! serves them as well as a B-tree, and costs the widget's WebAssembly a
//! fraction of the code (a `BTreeMap` per value type was ~20 KB of it).
//! Iteration and serialization run in key order, as a `BTreeMap`'s do (the
//! OpenAPI document describes the fields as `BTreeMap`s: the same JSON).

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Text keys to values, in key order; one value per key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmallMap<V>(Vec<(String, V)>);

type Entry<V> = (String, V);

impl<V> Default for SmallMap<V> {
    fn default() -> Self {
        SmallMap(Vec::new())
    }
}

impl<V> SmallMap<V> {
    pub const fn new() -> Self {
        SmallMap(Vec::new())
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// Sets `key` to `value`; returns the value it replaces.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.position(key).ok().map(|i| &self.0[i].1)
    }

    pub fn get_key_value(&self, key: &str) -> Option<(&String, &V)> {
        self.position(key)
            .ok()
            .map(|i| (&self.0[i].0, &self.0[i].1))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> Iter<'_, V> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.0.iter_mut().map(|(_, v)| v)
    }
}

/// `map["en"]`: the value of a key that must be there.
impl<V> std::ops::Index<&str> for SmallMap<V> {
    type Output = V;

    fn index(&self, key: &str) -> &V {
        self.get(key).expect("no such key in the map")
    }
}

/// The entries of a [`SmallMap`] by reference, in key order.
pub type Iter<'a, V> =
    std::iter::Map<std::slice::Iter<'a, Entry<V>>, fn(&'a Entry<V>) -> (&'a String, &'a V)>;

impl<'a, V> IntoIterator for &'a SmallMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = Iter<'a, V>;

    fn into_iter(self) -> Iter<'a, V> {
        self.iter()
    }
}

impl<V> IntoIterator for SmallMap<V> {
    type Item = (String, V);
    type IntoIter = std::vec::IntoIter<(String, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Later entries win, as in a `BTreeMap`.
impl<V> FromIterator<(String, V)> for SmallMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(entries: I) -> Self {
        let mut map = SmallMap::new();
        for (k, v) in entries {
            map.insert(k, v);
        }
        map
    }
}

impl<V, const N: usize> From<[(String, V); N]> for SmallMap<V> {
    fn from(entries: [(String, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<V: Serialize> Serialize for SmallMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for SmallMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = SmallMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<SmallMap<V>, A::Error> {
                let mut map = SmallMap::new();
                while let Some((k, v)) = access.next_entry()? {
                    map.insert(k, v);
                }
                Ok(map)
            }
        }
        deserializer.deserialize_map(Entries(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::SmallMap;

    #[test]
    fn keeps_key_order_and_one_value_per_key() {
        let mut m = SmallMap::new();
        assert_eq!(m.insert("es".into(), 2), None);
        assert_eq!(m.insert("en".into(), 1), None);
        assert_eq!(m.insert("pt".into(), 3), None);
        assert_eq!(m.insert("es".into(), 4), Some(2));
        let keys: Vec<&String> = m.keys().collect();
        assert_eq!(keys, ["en", "es", "pt"]);
        assert_eq!(m.get("es"), Some(&4));
        assert_eq!(m.get("de"), None);
        assert_eq!(m.len(), 3);
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"en":1,"es":4,"pt":3}"#
        );
    }

    #[test]
    fn reads_a_json_object_later_keys_winning() {
        let m: SmallMap<u8> = serde_json::from_str(r#"{"b":1,"a":2,"b":3}"#).unwrap();
        assert_eq!(
            m,
            SmallMap::from([("a".to_owned(), 2), ("b".to_owned(), 3)])
        );
        assert!(serde_json::from_str::<SmallMap<u8>>("[1]").is_err());
    }
}
