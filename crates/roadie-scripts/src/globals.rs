//! The host API as JavaScript globals: `reply`, `user`, `args`, `vars`, `points`,
//! `random`, `obs`, `tts` and `console`. Nothing else of the host is reachable.

use std::rc::Rc;

use rquickjs::function::{Opt, Rest};
use rquickjs::{Array, Coerced, Ctx, Exception, FromJs, Function, Object, Value};
use serde_json::Map;

use crate::engine::{State, Stop};
use crate::{HostCall, ObsCall, ScriptInput, Visibility};

/// The largest integer a JavaScript number holds exactly (2^53 - 1).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

type JsResult<T> = rquickjs::Result<T>;

/// The size `vars` are measured by: keys plus their values as JSON.
pub(crate) fn vars_size(vars: &Map<String, serde_json::Value>) -> usize {
    vars.iter()
        .map(|(key, value)| key.len().saturating_add(json_len(value)))
        .fold(0, usize::saturating_add)
}

fn json_len(value: &serde_json::Value) -> usize {
    serde_json::to_string(value).map_or(0, |s| s.len())
}

/// Cuts `text` to at most `max` bytes at a character boundary, marking the cut.
pub(crate) fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// A value as `console.log` shows it: strings as they are, objects and arrays as
/// JSON where possible, anything else through `String(value)`.
/// Both may run the script's own code (`toJSON`, `toString`), which may throw; the
/// exception is then cleared and a placeholder shown.
pub(crate) fn display_value<'js>(ctx: &Ctx<'js>, value: Value<'js>) -> String {
    if let Some(s) = value.as_string() {
        return s.to_string().unwrap_or_default();
    }
    if value.is_symbol() {
        return "Symbol()".to_owned();
    }
    if value.is_object() && !value.is_function() && !value.is_error() {
        match ctx.json_stringify(value.clone()) {
            Ok(Some(json)) => return json.to_string().unwrap_or_default(),
            Ok(None) => {}
            // Not JSON (a cycle, a BigInt): fall back to `String(value)`.
            Err(_) => drop(ctx.catch()),
        }
    }
    match <Coerced<String> as FromJs>::from_js(ctx, value) {
        Ok(text) => text.0,
        Err(_) => {
            drop(ctx.catch());
            "[value]".to_owned()
        }
    }
}

/// Turns a failed host call into the JavaScript exception the script sees.
fn throw(ctx: &Ctx<'_>, stop: Stop) -> rquickjs::Error {
    match stop {
        // The interrupt that follows cannot be caught; this error only unwinds the
        // current call until then.
        Stop::Abort => Exception::throw_internal(ctx, "the script was stopped"),
        Stop::Refused(reason) => Exception::throw_message(ctx, &reason),
    }
}

fn type_error(ctx: &Ctx<'_>, message: &str) -> rquickjs::Error {
    Exception::throw_type(ctx, message)
}

/// Text for the host (`String(value)`), bounded: a string argument larger than the
/// whole output limit is refused instead of being handed on.
fn host_text<'js>(
    ctx: &Ctx<'js>,
    state: &State,
    what: &str,
    value: Value<'js>,
) -> JsResult<String> {
    let text = <Coerced<String> as FromJs>::from_js(ctx, value)?.0;
    if text.len() > state.limits.output_bytes {
        return Err(Exception::throw_range(
            ctx,
            &format!("{what} is longer than {} bytes", state.limits.output_bytes),
        ));
    }
    Ok(text)
}

/// A whole number within JavaScript's exact range, or a `TypeError` naming `what`.
fn whole_number(ctx: &Ctx<'_>, value: &Value<'_>, what: &str) -> JsResult<i64> {
    let number = value
        .as_number()
        .filter(|n| n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER);
    match number {
        // In range and integral, so the conversion is exact.
        #[allow(clippy::cast_possible_truncation)]
        Some(n) => Ok(n as i64),
        None => Err(type_error(ctx, &format!("{what} must be a whole number"))),
    }
}

/// A login argument: `undefined`/`null` for the caller, otherwise a non-empty string.
fn login(ctx: &Ctx<'_>, value: Option<Value<'_>>) -> JsResult<Option<String>> {
    let Some(value) = value.filter(|v| !v.is_undefined() && !v.is_null()) else {
        return Ok(None);
    };
    let Some(text) = value.as_string() else {
        return Err(type_error(ctx, "the login must be a string"));
    };
    let text = text.to_string()?;
    let text = text.trim().trim_start_matches('@').to_owned();
    if text.is_empty() {
        return Err(type_error(ctx, "the login must not be empty"));
    }
    if text.len() > 64 {
        return Err(type_error(ctx, "the login is too long"));
    }
    Ok(Some(text))
}

fn visibility(ctx: &Ctx<'_>, value: &Value<'_>) -> JsResult<Visibility> {
    if let Some(on) = value.as_bool() {
        return Ok(if on { Visibility::On } else { Visibility::Off });
    }
    let word = value
        .as_string()
        .and_then(|s| s.to_string().ok())
        .unwrap_or_default();
    match word.to_ascii_lowercase().as_str() {
        "on" | "show" => Ok(Visibility::On),
        "off" | "hide" => Ok(Visibility::Off),
        "toggle" => Ok(Visibility::Toggle),
        _ => Err(type_error(
            ctx,
            "obs.source: the state must be \"on\", \"off\" or \"toggle\"",
        )),
    }
}

fn freeze<'js>(ctx: &Ctx<'js>, value: Value<'js>) -> JsResult<Value<'js>> {
    let object: Object<'js> = ctx.globals().get("Object")?;
    let freeze: Function<'js> = object.get("freeze")?;
    freeze.call((value,))
}

fn function<'js, P, F>(ctx: &Ctx<'js>, name: &str, f: F) -> JsResult<Function<'js>>
where
    F: rquickjs::function::IntoJsFunc<'js, P> + 'js,
{
    Function::new(ctx.clone(), f)?.with_name(name)
}

/// Adds the host API to the global object. Runs before the script, so the built-ins
/// it uses (`Object.freeze`) are still the originals.
pub(crate) fn install<'js>(ctx: &Ctx<'js>, state: &Rc<State>, input: &ScriptInput) -> JsResult<()> {
    let globals = ctx.globals();

    let user = Object::new(ctx.clone())?;
    user.set("id", input.user.id.as_str())?;
    user.set("login", input.user.login.as_str())?;
    user.set("name", input.user.name.as_str())?;
    user.set("platform", input.user.platform.as_str())?;
    let roles = Array::new(ctx.clone())?;
    for (i, role) in input.user.roles.iter().enumerate() {
        roles.set(i, role.as_str())?;
    }
    user.set("roles", freeze(ctx, roles.into_value())?)?;
    globals.set("user", freeze(ctx, user.into_value())?)?;

    let args = Array::new(ctx.clone())?;
    for (i, arg) in input.args.iter().enumerate() {
        args.set(i, arg.as_str())?;
    }
    globals.set("args", freeze(ctx, args.into_value())?)?;

    let st = Rc::clone(state);
    let reply = function(
        ctx,
        "reply",
        move |ctx: Ctx<'js>, text: Rest<Value<'js>>| -> JsResult<()> {
            // Refuse before formatting: a script that catches the refusal and loops must
            // not get to copy its text around on every turn.
            st.check().map_err(|stop| throw(&ctx, stop))?;
            let text = join(&ctx, text.0);
            st.emit(text, true).map_err(|stop| throw(&ctx, stop))
        },
    )?;
    globals.set("reply", reply)?;

    let console = Object::new(ctx.clone())?;
    for name in ["log", "info", "warn", "error", "debug"] {
        let st = Rc::clone(state);
        let log = function(
            ctx,
            name,
            move |ctx: Ctx<'js>, values: Rest<Value<'js>>| -> JsResult<()> {
                st.check().map_err(|stop| throw(&ctx, stop))?;
                let line = join(&ctx, values.0);
                st.emit(line, false).map_err(|stop| throw(&ctx, stop))
            },
        )?;
        console.set(name, log)?;
    }
    globals.set("console", freeze(ctx, console.into_value())?)?;

    globals.set("vars", freeze(ctx, vars_object(ctx, state)?.into_value())?)?;
    globals.set(
        "points",
        freeze(ctx, points_object(ctx, state)?.into_value())?,
    )?;

    let st = Rc::clone(state);
    let random = function(
        ctx,
        "random",
        move |ctx: Ctx<'js>, low: Value<'js>, high: Value<'js>| -> JsResult<i64> {
            let low = whole_number(&ctx, &low, "random: the lowest value")?;
            let high = whole_number(&ctx, &high, "random: the highest value")?;
            let (low, high) = if low <= high {
                (low, high)
            } else {
                (high, low)
            };
            st.host_call(HostCall::Random { low, high })
                .map_err(|stop| throw(&ctx, stop))
        },
    )?;
    globals.set("random", random)?;

    globals.set("obs", freeze(ctx, obs_object(ctx, state)?.into_value())?)?;

    let tts = Object::new(ctx.clone())?;
    let st = Rc::clone(state);
    let say = function(
        ctx,
        "say",
        move |ctx: Ctx<'js>, text: Value<'js>| -> JsResult<()> {
            st.check().map_err(|stop| throw(&ctx, stop))?;
            let text = host_text(&ctx, &st, "tts.say: the text", text)?;
            st.host_call(HostCall::TtsSay { text })
                .map(drop)
                .map_err(|stop| throw(&ctx, stop))
        },
    )?;
    tts.set("say", say)?;
    globals.set("tts", freeze(ctx, tts.into_value())?)?;
    Ok(())
}

/// `reply` and `console.log` arguments joined by spaces, as browsers print them.
fn join<'js>(ctx: &Ctx<'js>, values: Vec<Value<'js>>) -> String {
    let parts: Vec<String> = values.into_iter().map(|v| display_value(ctx, v)).collect();
    parts.join(" ")
}

fn vars_object<'js>(ctx: &Ctx<'js>, state: &Rc<State>) -> JsResult<Object<'js>> {
    let vars = Object::new(ctx.clone())?;

    let st = Rc::clone(state);
    let get = function(
        ctx,
        "get",
        move |ctx: Ctx<'js>, key: Coerced<String>| -> JsResult<Value<'js>> {
            let json = match st.vars.borrow().get(&key.0) {
                None => return Ok(Value::new_undefined(ctx.clone())),
                Some(value) => serde_json::to_string(value),
            };
            // Parsing a fresh copy each time: changing the returned object does not
            // change the variable until it is `set` again.
            match json {
                Ok(json) => ctx.json_parse(json),
                Err(e) => Err(type_error(&ctx, &format!("vars.get: {e}"))),
            }
        },
    )?;
    vars.set("get", get)?;

    let st = Rc::clone(state);
    let set = function(
        ctx,
        "set",
        move |ctx: Ctx<'js>, key: Coerced<String>, value: Opt<Value<'js>>| -> JsResult<()> {
            let key = key.0;
            let old = st
                .vars
                .borrow()
                .get(&key)
                .map_or(0, |v| key.len() + json_len(v));
            let value = value.0.filter(|v| !v.is_undefined());
            let Some(value) = value else {
                // `vars.set(key)` or `vars.set(key, undefined)` forgets the variable.
                st.vars.borrow_mut().remove(&key);
                st.vars_used.set(st.vars_used.get().saturating_sub(old));
                return Ok(());
            };
            let Some(json) = ctx.json_stringify(value)? else {
                return Err(type_error(
                    &ctx,
                    "vars.set: the value must be JSON (not a function or symbol)",
                ));
            };
            let json = json.to_string()?;
            let new = key.len().saturating_add(json.len());
            let used = st.vars_used.get().saturating_sub(old).saturating_add(new);
            if used > st.limits.vars_bytes {
                return Err(Exception::throw_range(
                    &ctx,
                    &format!(
                        "vars.set: variables are limited to {} bytes in all",
                        st.limits.vars_bytes
                    ),
                ));
            }
            let parsed: serde_json::Value = serde_json::from_str(&json)
                .map_err(|e| type_error(&ctx, &format!("vars.set: {e}")))?;
            st.vars.borrow_mut().insert(key, parsed);
            st.vars_used.set(used);
            Ok(())
        },
    )?;
    vars.set("set", set)?;
    Ok(vars)
}

fn points_object<'js>(ctx: &Ctx<'js>, state: &Rc<State>) -> JsResult<Object<'js>> {
    let points = Object::new(ctx.clone())?;

    let st = Rc::clone(state);
    let get = function(
        ctx,
        "get",
        move |ctx: Ctx<'js>, who: Opt<Value<'js>>| -> JsResult<i64> {
            let login = login(&ctx, who.0)?;
            st.host_call(HostCall::PointsGet { login })
                .map_err(|stop| throw(&ctx, stop))
        },
    )?;
    points.set("get", get)?;

    let st = Rc::clone(state);
    let add = function(
        ctx,
        "add",
        move |ctx: Ctx<'js>, first: Opt<Value<'js>>, second: Opt<Value<'js>>| -> JsResult<i64> {
            // `points.add(n)` is for the caller, `points.add(login, n)` for anyone.
            let (who, amount) = match (first.0, second.0) {
                (amount, None) => (None, amount),
                (who, Some(amount)) if amount.is_undefined() => (None, who),
                (who, Some(amount)) => (who, Some(amount)),
            };
            let Some(amount) = amount else {
                return Err(type_error(&ctx, "points.add: how many points?"));
            };
            let delta = whole_number(&ctx, &amount, "points.add: the amount")?;
            let login = login(&ctx, who)?;
            st.host_call(HostCall::PointsAdd { login, delta })
                .map_err(|stop| throw(&ctx, stop))
        },
    )?;
    points.set("add", add)?;
    Ok(points)
}

fn obs_object<'js>(ctx: &Ctx<'js>, state: &Rc<State>) -> JsResult<Object<'js>> {
    let obs = Object::new(ctx.clone())?;

    let st = Rc::clone(state);
    let scene = function(
        ctx,
        "scene",
        move |ctx: Ctx<'js>, name: Value<'js>| -> JsResult<()> {
            st.check().map_err(|stop| throw(&ctx, stop))?;
            let scene = host_text(&ctx, &st, "obs.scene: the scene name", name)?;
            st.host_call(HostCall::Obs(ObsCall::Scene { scene }))
                .map(drop)
                .map_err(|stop| throw(&ctx, stop))
        },
    )?;
    obs.set("scene", scene)?;

    let st = Rc::clone(state);
    let source = function(
        ctx,
        "source",
        move |ctx: Ctx<'js>,
              scene: Value<'js>,
              source: Value<'js>,
              state: Value<'js>|
              -> JsResult<()> {
            st.check().map_err(|stop| throw(&ctx, stop))?;
            let visibility = visibility(&ctx, &state)?;
            let scene = host_text(&ctx, &st, "obs.source: the scene name", scene)?;
            let source = host_text(&ctx, &st, "obs.source: the source name", source)?;
            st.host_call(HostCall::Obs(ObsCall::Source {
                scene,
                source,
                visibility,
            }))
            .map(drop)
            .map_err(|stop| throw(&ctx, stop))
        },
    )?;
    obs.set("source", source)?;

    let st = Rc::clone(state);
    let text = function(
        ctx,
        "text",
        move |ctx: Ctx<'js>, source: Value<'js>, text: Value<'js>| -> JsResult<()> {
            st.check().map_err(|stop| throw(&ctx, stop))?;
            let source = host_text(&ctx, &st, "obs.text: the source name", source)?;
            let text = host_text(&ctx, &st, "obs.text: the text", text)?;
            st.host_call(HostCall::Obs(ObsCall::Text { source, text }))
                .map(drop)
                .map_err(|stop| throw(&ctx, stop))
        },
    )?;
    obs.set("text", text)?;
    Ok(obs)
}
