//! `#[tether::main]` and `#[tether::test]`: run an `async fn` on a fresh event loop.
//!
//! ```text
//! // Input:
//! #[tether::main]
//! pub async fn main() -> Result<(), E> { body }
//!
//! // Output:
//! pub fn main() -> Result<(), E> {
//!     #[deny(unused_must_use)]
//!     async fn __tether_main() -> Result<(), E> { body }
//!     ::tether::Runtime::builder().start_paused(false).build().run(__tether_main())
//! }
//!
//! // Input:
//! #[tether::test(start_paused, crate = "my_tether")]
//! async fn name() { body }
//!
//! // Output:
//! #[::core::prelude::v1::test]
//! fn name() {
//!     #[deny(unused_must_use)]
//!     async fn __tether_test() { body }
//!     my_tether::Runtime::builder().start_paused(true).detect_deadlocks(true).build()
//!         .run(__tether_test())
//! }
//! ```
//!
//! The body moves into an inner `async fn` so that `#[deny(unused_must_use)]` covers exactly the
//! user's code: a future that is called but not awaited, or a `Task` dropped on the spot, does
//! not compile. Each `let _ = value;` in the body is rewritten as `let_underscore` shows, so a
//! `Task` dropped by `let _ =` does not compile either.
//!
//! `workers = N` starts the chain with `tether::__private::workers(tether::Runtime::builder(), Nusize)`
//! (`Builder::workers`, behind a bound that names tether's `workers` feature when it is off);
//! without it the chain is as above.
//!
//! `shuffle`, `shuffle = "pct"` and `explore = N` (tests only, refused with `workers >= 2`) hand
//! the builder and the inner function to the seeded-schedule runner instead of calling `run`:
//!
//! ```text
//! tether::schedule::run_test(tether::Runtime::builder().start_paused(false),
//!     tether::schedule::TestPlan { strategy: "random", runs: N, path: "<module>::name" },
//!     __tether_test)
//! ```
//!
//! On error the user's function is still emitted next to the `compile_error!`s, so the rest of
//! the crate (and an IDE) keeps seeing it. When only the options are wrong, the function is
//! expanded with the options that did parse, so the option error is the only error reported.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Error, Expr, ExprLit, Item, ItemFn, Lit, Meta, Path, Result, Signature, Token};

use crate::let_underscore;

/// Entry point of `#[tether::main]`.
pub(crate) fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Main, args, item)
}

/// Entry point of `#[tether::test]`.
pub(crate) fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Test, args, item)
}

/// Which attribute is expanding; it picks the messages and the shape of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    /// The attribute as users write it, for messages.
    fn attr(self) -> &'static str {
        match self {
            Kind::Main => "#[tether::main]",
            Kind::Test => "#[tether::test]",
        }
    }

    /// The attribute with `args` inside, for examples in messages: `#[tether::main(args)]`.
    fn with_args(self, args: &str) -> String {
        format!("{}({args})]", self.attr().trim_end_matches(']'))
    }

    /// What the attribute applies to, for messages.
    fn shape(self) -> &'static str {
        match self {
            Kind::Main => "`async fn main()`",
            Kind::Test => "`async fn` test with no parameters",
        }
    }

    /// The name of the inner `async fn` holding the body.
    fn inner_fn(self) -> &'static str {
        match self {
            Kind::Main => "__tether_main",
            Kind::Test => "__tether_test",
        }
    }
}

/// The parsed options of the attribute.
#[derive(Default)]
struct Options {
    /// `start_paused`: where it was written, if it was.
    start_paused: Option<Span>,
    /// `debug`: where it was written, if it was.
    debug: Option<Span>,
    /// `tokio`: where it was written, if it was.
    tokio: Option<Span>,
    /// `workers = N`: the count, and where its literal was written.
    workers: Option<(usize, Span)>,
    /// `crate = "path"`: the path to use instead of `::tether`.
    krate: Option<Path>,
    /// `shuffle` or `shuffle = "random" | "pct"`: the strategy, and where it was written.
    shuffle: Option<(&'static str, Span)>,
    /// `explore = N`: how many seeds, and where the literal was written.
    explore: Option<(usize, Span)>,
}

/// Collects errors so that every mistake is reported in one compilation.
#[derive(Default)]
pub(crate) struct Errors(Option<Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn to_compile_errors(&self) -> TokenStream {
        self.0
            .as_ref()
            .map(Error::to_compile_error)
            .unwrap_or_default()
    }

    fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match parse_function(kind, item.clone()) {
        Ok(function) => function,
        Err(error) => return with_error(item, &error),
    };
    let mut option_errors = Errors::default();
    let options = parse_options(kind, args, &mut option_errors);
    let signature_errors = check_signature(kind, &function);

    let mut output = option_errors.to_compile_errors();
    output.extend(signature_errors.to_compile_errors());
    if signature_errors.is_empty() {
        output.extend(rewrite(kind, &options, function));
    } else {
        output.extend(recover(function));
    }
    output
}

/// The function for a signature the macro cannot rewrite: kept whole, so its body still
/// type-checks and the rest of the crate (and an IDE) still sees it, but without adding
/// follow-up errors to the one the macro reports.
///
/// A sync function or a method is emitted as written. An `async fn` is nested, as written,
/// inside a sync function of the same name: `async fn main(x: u32)` left at the top level would
/// add rustc's "`main` function is not allowed to be `async`", which is not the fix.
///
/// ```text
/// // Input:  #[tether::main] async fn main(args: Vec<String>) { body }
/// // Output: compile_error!("...takes no parameters...");
/// //         #[allow(dead_code)] fn main() { #[allow(dead_code)] async fn main(args: Vec<String>) { body } }
/// ```
fn recover(function: ItemFn) -> TokenStream {
    if function.sig.asyncness.is_none() || function.sig.receiver().is_some() {
        return function.into_token_stream();
    }
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = function;
    let ident = &sig.ident;
    quote! {
        #(#attrs)*
        #[allow(dead_code)]
        #vis fn #ident() {
            #[allow(dead_code)]
            #sig #block
        }
    }
}

/// Emits `tokens` unchanged next to `error`.
pub(crate) fn with_error(mut tokens: TokenStream, error: &Error) -> TokenStream {
    tokens.extend(error.to_compile_error());
    tokens
}

fn parse_function(kind: Kind, item: TokenStream) -> Result<ItemFn> {
    match syn::parse2::<Item>(item)? {
        Item::Fn(function) => Ok(function),
        other => Err(Error::new_spanned(
            other,
            format!(
                "{} applies to an {}; put it on a function",
                kind.attr(),
                kind.shape()
            ),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Options: `start_paused`, `debug`, `tokio`, `workers = N`, `crate = "path"`. One small function per
// option, then the checks that span two options.
// ---------------------------------------------------------------------------------------------

/// The list of valid options, for messages.
const VALID_OPTIONS: &str = "`start_paused`, `debug`, `tokio`, `workers = N`, `shuffle`, `explore = N` (tests) and `crate = \"path\"`";

fn parse_options(kind: Kind, args: TokenStream, errors: &mut Errors) -> Options {
    let mut options = Options::default();
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(metas) => metas,
        Err(error) => {
            errors.push(Error::new(
                error.span(),
                format!(
                    "{error}; {} takes a comma-separated list of options: {VALID_OPTIONS}",
                    kind.attr()
                ),
            ));
            return options;
        }
    };
    let mut seen: Vec<String> = Vec::new();
    for meta in &metas {
        let name = option_name(meta);
        if seen.contains(&name) {
            errors.push(Error::new_spanned(
                meta,
                format!("`{name}` is set more than once; remove this one"),
            ));
            continue;
        }
        seen.push(name.clone());
        let parsed = match name.as_str() {
            "start_paused" => flag(meta, "or leave it out to run on the real clock")
                .map(|span| options.start_paused = Some(span)),
            "debug" => flag(
                meta,
                "or leave it out (TETHER_DEBUG=1 also turns debug mode on)",
            )
            .map(|span| options.debug = Some(span)),
            "tokio" => flag(
                meta,
                "or leave it out (with tether's `tokio-bridge` feature, `tokio` runs every loop \
                 inside a tokio runtime's context)",
            )
            .map(|span| options.tokio = Some(span)),
            "workers" => workers(kind, meta).map(|count| options.workers = Some(count)),
            "crate" => crate_path(&kind.with_args("crate = \"my_tether\""), meta)
                .map(|path| options.krate = Some(path)),
            "shuffle" => shuffle(kind, meta).map(|strategy| options.shuffle = Some(strategy)),
            "explore" => explore(kind, meta).map(|runs| options.explore = Some(runs)),
            _ => Err(unknown_option(kind, meta, &name)),
        };
        if let Err(error) = parsed {
            errors.push(error);
        }
    }
    if let Err(error) = check_clock_and_workers(&mut options) {
        errors.push(error);
    }
    if let Err(error) = check_schedule_and_workers(&mut options) {
        errors.push(error);
    }
    options
}

/// `shuffle` and `explore` are test options: a program's order is steered with the builder.
fn test_only(kind: Kind, meta: &Meta, name: &str) -> Result<()> {
    if kind == Kind::Test {
        return Ok(());
    }
    Err(Error::new_spanned(
        meta,
        format!(
            "`{name}` is an option of #[tether::test], to find order-dependent bugs in tests; \
             a program picks its schedule with `tether::Runtime::builder().schedule(..)`"
        ),
    ))
}

/// `shuffle` (random order) or `shuffle = "random" | "pct"`.
fn shuffle(kind: Kind, meta: &Meta) -> Result<(&'static str, Span)> {
    test_only(kind, meta, "shuffle")?;
    let message = "`shuffle` takes no value (random order) or a strategy: \
                   `#[tether::test(shuffle = \"random\")]` or `#[tether::test(shuffle = \"pct\")]`";
    match meta {
        Meta::Path(path) => Ok(("random", syn::spanned::Spanned::span(path))),
        Meta::NameValue(name_value) => match &name_value.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(literal),
                ..
            }) => match literal.value().as_str() {
                "random" => Ok(("random", literal.span())),
                "pct" => Ok(("pct", literal.span())),
                other => Err(Error::new_spanned(
                    literal,
                    format!("unknown schedule strategy `{other}`; {message}"),
                )),
            },
            value => Err(Error::new_spanned(value, message)),
        },
        Meta::List(_) => Err(Error::new_spanned(meta, message)),
    }
}

/// `explore = N`: a positive integer literal.
fn explore(kind: Kind, meta: &Meta) -> Result<(usize, Span)> {
    test_only(kind, meta, "explore")?;
    let message = "`explore` takes how many seeds to try as an integer literal: \
                   `#[tether::test(explore = 100)]`";
    let literal = int_literal(meta, message)?;
    match literal.base10_parse::<usize>() {
        Ok(runs) if runs > 0 => Ok((runs, literal.span())),
        _ => Err(Error::new_spanned(
            literal,
            format!("`explore` needs at least one run; {message}"),
        )),
    }
}

/// `shuffle`/`explore` with `workers = N >= 2`: only one loop's order can be steered. Both
/// schedule options are dropped from `options`, so the expansion adds no error of its own.
fn check_schedule_and_workers(options: &mut Options) -> Result<()> {
    let Some((count, _)) = options.workers else {
        return Ok(());
    };
    if count < 2 {
        return Ok(());
    }
    let span = match (options.shuffle, options.explore) {
        (Some((_, span)), _) | (None, Some((_, span))) => span,
        (None, None) => return Ok(()),
    };
    options.shuffle = None;
    options.explore = None;
    Err(Error::new(
        span,
        format!(
            "seeded schedules (`shuffle`, `explore`) cannot be combined with `workers = {count}`: \
             only the single-threaded loop's order can be chosen and replayed, several workers \
             run tasks in parallel in the operating system's order; remove `workers = {count}` \
             to test the order on one loop"
        ),
    ))
}

/// The option's name as written: `start_paused`, `crate`, or a longer path for messages.
fn option_name(meta: &Meta) -> String {
    let path = meta.path();
    match path.get_ident() {
        Some(ident) => ident.to_string(),
        None => path.to_token_stream().to_string().replace(' ', ""),
    }
}

/// A bare flag (`start_paused`, `debug`); `otherwise` ends the message for a flag given a value.
fn flag(meta: &Meta, otherwise: &str) -> Result<Span> {
    match meta {
        Meta::Path(path) => Ok(syn::spanned::Spanned::span(path)),
        _ => {
            let name = option_name(meta);
            Err(Error::new_spanned(
                meta,
                format!("`{name}` is a flag and takes no value: write `{name}`, {otherwise}"),
            ))
        }
    }
}

/// The integer literal of `name = N`; `message` says what to write instead.
fn int_literal<'a>(meta: &'a Meta, message: &str) -> Result<&'a syn::LitInt> {
    let Meta::NameValue(name_value) = meta else {
        return Err(Error::new_spanned(meta, message));
    };
    match &name_value.value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(literal),
            ..
        }) => Ok(literal),
        value => Err(Error::new_spanned(value, message)),
    }
}

/// `workers = N`: a positive integer literal.
fn workers(kind: Kind, meta: &Meta) -> Result<(usize, Span)> {
    let message = format!(
        "`workers` takes the number of worker threads as an integer literal: `{}`",
        kind.with_args("workers = 2")
    );
    let literal = int_literal(meta, &message)?;
    let count: usize = literal.base10_parse().map_err(|_| {
        Error::new_spanned(
            literal,
            format!(
                "`workers = {}` does not fit in a `usize`; {message}",
                literal.base10_digits()
            ),
        )
    })?;
    if count == 0 {
        return Err(Error::new_spanned(
            literal,
            format!(
                "a runtime needs at least one worker: write `{}` for the single-threaded loop \
                 (the default, the same as leaving `workers` out), or 2 or more for several \
                 loops with work stealing",
                kind.with_args("workers = 1")
            ),
        ));
    }
    Ok((count, literal.span()))
}

/// `start_paused` with `workers = N >= 2`: the runtime would panic at startup, so refuse it
/// here. `workers` is dropped from `options` so the expansion adds no error of its own.
fn check_clock_and_workers(options: &mut Options) -> Result<()> {
    let (Some(paused), Some((count, _))) = (options.start_paused, options.workers) else {
        return Ok(());
    };
    if count < 2 {
        return Ok(());
    }
    options.workers = None;
    Err(Error::new(
        paused,
        format!(
            "`start_paused` cannot be combined with `workers = {count}`: the virtual clock needs \
             the single-threaded loop, because it may only jump when every task is idle, which \
             one loop can tell at a glance and several cannot; remove `start_paused` to run on \
             the real clock, or remove `workers = {count}` to run on one loop"
        ),
    ))
}

/// `crate = "path"`: a string literal holding a path, e.g. `"::my_tether"`; `example` is the
/// attribute written with it, for messages.
pub(crate) fn crate_path(example: &str, meta: &Meta) -> Result<Path> {
    let Meta::NameValue(name_value) = meta else {
        return Err(Error::new_spanned(
            meta,
            format!("`crate` needs the path to tether as a string: `{example}`"),
        ));
    };
    let Expr::Lit(ExprLit {
        lit: Lit::Str(literal),
        ..
    }) = &name_value.value
    else {
        return Err(Error::new_spanned(
            &name_value.value,
            format!("`crate` takes a string literal: `{example}`"),
        ));
    };
    literal.parse_with(Path::parse_mod_style).map_err(|_| {
        Error::new_spanned(
            literal,
            format!(
                "`{}` is not a path; `crate` takes the path to tether, e.g. `{example}`",
                literal.value()
            ),
        )
    })
}

fn unknown_option(kind: Kind, meta: &Meta, name: &str) -> Error {
    Error::new_spanned(
        meta,
        format!(
            "unknown option `{name}`; {} accepts {VALID_OPTIONS}, e.g. `{}`",
            kind.attr(),
            kind.with_args("start_paused"),
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// The signature: `async`, no parameters, no generics.
// ---------------------------------------------------------------------------------------------

fn check_signature(kind: Kind, function: &ItemFn) -> Errors {
    let mut errors = Errors::default();
    let sig = &function.sig;
    for check in [check_async, check_inputs, check_generics] {
        if let Err(error) = check(kind, sig) {
            errors.push(error);
        }
    }
    if kind == Kind::Test {
        if let Err(error) = check_no_test_attr(function) {
            errors.push(error);
        }
    }
    errors
}

fn check_async(kind: Kind, sig: &Signature) -> Result<()> {
    if sig.asyncness.is_some() {
        return Ok(());
    }
    Err(Error::new_spanned(
        sig.fn_token,
        format!(
            "the `async` keyword is missing from the function declaration; {} runs an {}: \
             write `async fn`",
            kind.attr(),
            kind.shape()
        ),
    ))
}

fn check_inputs(kind: Kind, sig: &Signature) -> Result<()> {
    if let Some(receiver) = sig.receiver() {
        return Err(Error::new_spanned(
            receiver,
            format!(
                "{} cannot be used on a method: it takes `self`; \
                 make it a free `async fn` with no parameters",
                kind.attr()
            ),
        ));
    }
    if !sig.inputs.is_empty() {
        let fix = match kind {
            Kind::Main => "remove them (read command-line arguments with `std::env::args()`)",
            Kind::Test => "remove them and build the values inside the test",
        };
        return Err(Error::new_spanned(
            &sig.inputs,
            format!("{} takes no parameters: {fix}", kind.attr()),
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(Error::new_spanned(
            variadic,
            format!("{} takes no parameters: remove the `...`", kind.attr()),
        ));
    }
    Ok(())
}

fn check_generics(kind: Kind, sig: &Signature) -> Result<()> {
    let generics = &sig.generics;
    let message = format!(
        "{} cannot be generic: remove the generic parameters and the where clause, \
         and name concrete types in the body",
        kind.attr()
    );
    if !generics.params.is_empty() {
        let mut tokens = generics.to_token_stream();
        generics.where_clause.to_tokens(&mut tokens);
        return Err(Error::new_spanned(tokens, message));
    }
    if let Some(where_clause) = &generics.where_clause {
        return Err(Error::new_spanned(where_clause, message));
    }
    Ok(())
}

/// `#[tether::test]` adds `#[test]`; a second one would run the function twice or not compile.
fn check_no_test_attr(function: &ItemFn) -> Result<()> {
    match function
        .attrs
        .iter()
        .find(|attr| attr.path().is_ident("test"))
    {
        Some(attr) => Err(Error::new_spanned(
            attr,
            "remove this `#[test]`: #[tether::test] already marks the function as a test",
        )),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Expansion.
// ---------------------------------------------------------------------------------------------

fn rewrite(kind: Kind, options: &Options, function: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        mut block,
        ..
    } = function;
    sig.asyncness = None;

    let krate = match &options.krate {
        Some(path) => path.to_token_stream(),
        None => quote!(::tether),
    };
    let_underscore::check_block(&krate, &mut block);
    let paused = match options.start_paused {
        Some(span) => quote_spanned!(span=> true),
        None => quote!(false),
    };
    let debug = options
        .debug
        .map(|span| quote_spanned!(span=> .debug(true)));
    // Spanned at the option: without tether's `tokio-bridge` feature, `Builder::tokio` does not
    // exist, and the error points here.
    let tokio = options
        .tokio
        .map(|span| quote_spanned!(span=> .tokio(true)));
    // A `usize` whatever suffix was written; spanned at the user's literal, so an error about
    // it points at the option. Through a hidden function of the runtime rather than
    // `.workers(..)`: without tether's `workers` feature, `usize` misses its bound, and the
    // error names the feature, instead of "no method named `workers`".
    let new_builder = match options.workers {
        Some((count, span)) => {
            let mut count = proc_macro2::Literal::usize_suffixed(count);
            count.set_span(span);
            quote_spanned!(span=> #krate::__private::workers(#krate::Runtime::builder(), #count))
        }
        None => quote!(#krate::Runtime::builder()),
    };
    let inner = syn::Ident::new(kind.inner_fn(), Span::call_site());
    let output = &sig.output;
    let test_attr = match kind {
        Kind::Main => TokenStream::new(),
        Kind::Test => quote!(#[::core::prelude::v1::test]),
    };

    // A test that deadlocks fails with the wait-for report instead of hanging.
    let deadlocks = match kind {
        Kind::Main => TokenStream::new(),
        Kind::Test => quote!(.detect_deadlocks(true)),
    };
    let builder = quote! {
        #new_builder
            .start_paused(#paused)
            #debug
            #tokio
            #deadlocks
    };
    let run = if options.shuffle.is_some() || options.explore.is_some() {
        let strategy = options.shuffle.map_or("random", |(strategy, _)| strategy);
        let runs = proc_macro2::Literal::usize_unsuffixed(options.explore.map_or(1, |(n, _)| n));
        let name = &sig.ident;
        quote! {
            #krate::schedule::run_test(
                #builder,
                #krate::schedule::TestPlan {
                    strategy: #strategy,
                    runs: #runs,
                    path: ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#name)),
                },
                #inner,
            )
        }
    } else {
        quote! { #builder.build().run(#inner()) }
    };

    quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            #[deny(unused_must_use)]
            async fn #inner() #output #block
            #run
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_to_string(kind: Kind, args: TokenStream, item: TokenStream) -> String {
        expand(kind, args, item).to_string()
    }

    #[test]
    fn main_expansion() {
        let output = expand_to_string(
            Kind::Main,
            quote!(),
            quote! {
                #[allow(unused)]
                pub async fn main() -> Result<(), E> { body().await }
            },
        );
        let expected = quote! {
            #[allow(unused)]
            pub fn main() -> Result<(), E> {
                #[deny(unused_must_use)]
                async fn __tether_main() -> Result<(), E> { body().await }
                ::tether::Runtime::builder()
                    .start_paused(false)
                    .build()
                    .run(__tether_main())
            }
        };
        assert_eq!(output, expected.to_string());
    }

    #[test]
    fn test_expansion_with_options() {
        let output = expand_to_string(
            Kind::Test,
            quote!(start_paused, crate = "my_tether"),
            quote! { async fn name() { body } },
        );
        let expected = quote! {
            #[::core::prelude::v1::test]
            fn name() {
                #[deny(unused_must_use)]
                async fn __tether_test() { body }
                my_tether::Runtime::builder()
                    .start_paused(true)
                    .detect_deadlocks(true)
                    .build()
                    .run(__tether_test())
            }
        };
        assert_eq!(output, expected.to_string());
    }

    #[test]
    fn main_expansion_with_workers() {
        let output = expand_to_string(
            Kind::Main,
            quote!(workers = 4, debug),
            quote! { async fn main() { body } },
        );
        let expected = quote! {
            fn main() {
                #[deny(unused_must_use)]
                async fn __tether_main() { body }
                ::tether::__private::workers(::tether::Runtime::builder(), 4usize)
                    .start_paused(false)
                    .debug(true)
                    .build()
                    .run(__tether_main())
            }
        };
        assert_eq!(output, expected.to_string());
    }

    #[test]
    fn test_expansion_with_workers() {
        let output = expand_to_string(
            Kind::Test,
            quote!(workers = 4, crate = "my_tether"),
            quote! { async fn name() { body } },
        );
        let expected = quote! {
            #[::core::prelude::v1::test]
            fn name() {
                #[deny(unused_must_use)]
                async fn __tether_test() { body }
                my_tether::__private::workers(my_tether::Runtime::builder(), 4usize)
                    .start_paused(false)
                    .detect_deadlocks(true)
                    .build()
                    .run(__tether_test())
            }
        };
        assert_eq!(output, expected.to_string());
    }

    #[test]
    fn let_underscore_is_checked_in_main_and_test() {
        for kind in [Kind::Main, Kind::Test] {
            let output = expand_to_string(
                kind,
                quote!(crate = "my_tether"),
                quote! { async fn name() { let _ = my_tether::create_task(work()); } },
            );
            assert!(
                output.contains("match my_tether :: create_task (work ())"),
                "{output}"
            );
            assert!(
                output.contains("my_tether :: __private :: owning :: discard"),
                "{output}"
            );
        }
    }

    #[test]
    fn workers_makes_the_literal_a_usize() {
        let output = expand_to_string(
            Kind::Main,
            quote!(workers = 3u8),
            quote! { async fn main() {} },
        );
        assert!(
            output.contains(":: tether :: Runtime :: builder () , 3usize)"),
            "{output}"
        );
    }

    #[test]
    fn one_worker_runs_on_the_virtual_clock() {
        let output = expand_to_string(
            Kind::Test,
            quote!(workers = 1, start_paused),
            quote! { async fn name() {} },
        );
        assert!(!output.contains("compile_error"), "{output}");
        assert!(
            output.contains("builder () , 1usize) . start_paused (true)"),
            "{output}"
        );
    }

    /// The option errors of `args` on `#[tether::main] async fn main() {}`, and the expansion.
    fn option_error(args: TokenStream) -> String {
        let output = expand_to_string(Kind::Main, args, quote! { async fn main() {} });
        assert!(output.contains("compile_error"), "{output}");
        // A rejected count never reaches the builder, so the user sees only the macro's error.
        assert!(!output.contains(". workers"), "{output}");
        assert!(output.contains("__tether_main"), "{output}");
        output
    }

    #[test]
    fn workers_needs_an_integer_literal() {
        for args in [
            quote!(workers),
            quote!(workers = "2"),
            quote!(workers = x),
            quote!(workers = 2.0),
            quote!(workers = -1),
            quote!(workers(2)),
        ] {
            let output = option_error(args);
            assert!(
                output.contains(
                    "`workers` takes the number of worker threads as an integer literal: \
                     `#[tether::main(workers = 2)]`"
                ),
                "{output}"
            );
        }
    }

    #[test]
    fn workers_must_fit_in_usize() {
        let output = option_error(quote!(workers = 100000000000000000000000));
        assert!(output.contains("does not fit in a `usize`"), "{output}");
    }

    #[test]
    fn workers_cannot_be_zero() {
        let output = option_error(quote!(workers = 0));
        assert!(
            output.contains(
                "a runtime needs at least one worker: write `#[tether::main(workers = 1)]`"
            ),
            "{output}"
        );
    }

    #[test]
    fn several_workers_refuse_the_virtual_clock() {
        for args in [
            quote!(workers = 2, start_paused),
            quote!(start_paused, workers = 8),
        ] {
            let output = option_error(args);
            assert!(
                output.contains("`start_paused` cannot be combined with `workers = "),
                "{output}"
            );
            assert!(output.contains("one loop can tell at a glance"), "{output}");
            // `start_paused` survives: only the combination is refused.
            assert!(output.contains(". start_paused (true)"), "{output}");
        }
    }

    #[test]
    fn workers_set_twice() {
        let output = expand_to_string(
            Kind::Test,
            quote!(workers = 2, workers = 3),
            quote! { async fn name() {} },
        );
        assert!(
            output.contains("`workers` is set more than once; remove this one"),
            "{output}"
        );
        // The first one stands.
        assert!(output.contains("builder () , 2usize)"), "{output}");
    }

    #[test]
    fn unknown_option_lists_workers() {
        let output = option_error(quote!(flavor = "multi_thread"));
        assert!(
            output.contains(
                "accepts `start_paused`, `debug`, `tokio`, `workers = N`, `shuffle`, `explore = N` \
                 (tests) \
                 and `crate = \\\"path\\\"`"
            ),
            "{output}"
        );
    }

    #[test]
    fn option_errors_still_expand_the_function() {
        let output = expand_to_string(Kind::Main, quote!(flavor), quote! { async fn main() {} });
        assert!(output.contains("compile_error"), "{output}");
        assert!(output.contains("unknown option `flavor`"), "{output}");
        assert!(output.contains("__tether_main"), "{output}");
    }

    #[test]
    fn signature_errors_keep_the_function_whole() {
        let output = expand_to_string(Kind::Main, quote!(), quote! { async fn main(x: u32) { x } });
        let expected = quote! {
            #[allow(dead_code)]
            fn main() {
                #[allow(dead_code)]
                async fn main(x: u32) { x }
            }
        };
        assert!(output.contains("takes no parameters"), "{output}");
        assert!(output.ends_with(&expected.to_string()), "{output}");
    }

    #[test]
    fn every_mistake_is_reported_at_once() {
        let output = expand_to_string(
            Kind::Test,
            quote!(start_paused, start_paused, nope),
            quote! { fn t<T>(x: T) {} },
        );
        for message in [
            "set more than once",
            "unknown option `nope`",
            "`async` keyword is missing",
            "takes no parameters",
            "cannot be generic",
        ] {
            assert!(output.contains(message), "missing {message:?} in {output}");
        }
    }

    #[test]
    fn explore_expands_to_the_seeded_runner() {
        let output = expand_to_string(
            Kind::Test,
            quote!(explore = 50, shuffle = "pct", start_paused),
            quote! { async fn name() { body } },
        );
        assert!(!output.contains("compile_error"), "{output}");
        assert!(
            output.contains(":: tether :: schedule :: run_test"),
            "{output}"
        );
        assert!(output.contains("strategy : \"pct\""), "{output}");
        assert!(output.contains("runs : 50"), "{output}");
        assert!(output.contains(". start_paused (true)"), "{output}");
    }

    #[test]
    fn schedules_refuse_several_workers() {
        for args in [
            quote!(shuffle, workers = 2),
            quote!(workers = 4, explore = 10),
        ] {
            let output = expand_to_string(Kind::Test, args, quote! { async fn name() {} });
            assert!(
                output.contains("cannot be combined with `workers = "),
                "{output}"
            );
            assert!(!output.contains("run_test"), "{output}");
        }
    }

    #[test]
    fn schedule_options_are_for_tests() {
        let output = option_error(quote!(shuffle));
        assert!(
            output.contains("is an option of #[tether::test]"),
            "{output}"
        );
        let output = option_error(quote!(explore = 0));
        assert!(
            output.contains("is an option of #[tether::test]"),
            "{output}"
        );
    }

    #[test]
    fn shuffle_rejects_unknown_strategies() {
        let output = expand_to_string(
            Kind::Test,
            quote!(shuffle = "lifo"),
            quote! { async fn name() {} },
        );
        assert!(
            output.contains("unknown schedule strategy `lifo`"),
            "{output}"
        );
    }
}
