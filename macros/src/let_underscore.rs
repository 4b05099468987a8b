//! The `let _ =` check shared by `#[tether::main]`, `#[tether::test]` and `#[tether::owned]`.
//!
//! ```text
//! // Input:
//! async fn serve() {
//!     let _ = tether::create_task(work());
//!     more();
//! }
//!
//! // Output (every token of the check spanned at the user's expression):
//! async fn serve() {
//!     let mut _tether_judged_0;                 // hygienic: the user's code cannot name it
//!     let _ = match tether::create_task(work()) {
//!         __tether_value => {
//!             _tether_judged_0 = ::tether::__private::owning::Marker::of(&__tether_value);
//!             __tether_value
//!         }
//!     };
//!     more();
//!     let () = loop {                           // at the end of the body, before its tail
//!         break;
//!         use ::tether::__private::owning::{ViaAny as _, ViaOwnsTask as _};
//!         ::tether::__private::owning::discard(
//!             &_tether_judged_0,
//!             (&::tether::__private::owning::Probe(&_tether_judged_0)).verdict(),
//!         );
//!     };
//! }
//! ```
//!
//! The type checker then refuses every value whose type owns a task (see
//! `tether::__private::owning`), and nothing else: the check follows types, not names, so an
//! alias (`use tether::spawn as go;`), a method, or the user's own function returning a `Task`
//! are caught as surely as `tether::create_task`. `match` keeps the value's drop where it was:
//! `let _ =` drops it at the end of the statement, and so does the rewritten statement.
//!
//! The value leaves a marker of its type where it is dropped, and the probe reads the marker at
//! the end of the body (a function's, a closure's or an async block's), after a `break`: by then
//! every statement of the body has settled the type, and the probe is type-checked without
//! running or borrowing anything. Where there is no body end to wait for (a closure's
//! expression body, a body's tail), the probe runs in place. Why, and how the type-level half
//! judges what inference leaves to fallback (`!`, `()`), is in `tether::__private::owning`.
//!
//! Only value expressions are rewritten (calls, method calls, `.await`, `?`, blocks, `if`,
//! `match`): `let _ = place;` moves nothing and drops nothing, and must keep doing so.
//! `_ = EXPR;` and `let _: T = EXPR;` get the same treatment.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote_spanned};
use syn::spanned::Spanned;
use syn::{Block, Expr, ImplItem, Item, Local, Pat, Stmt, TraitItem, Type};

/// Rewrites every `let _ =` of a value in `block`, nested closures, async blocks and items
/// included.
pub(crate) fn check_block(krate: &TokenStream, block: &mut Block) {
    Rewriter::new(krate).body(block);
}

/// Rewrites every `let _ =` of a value in the bodies `item` holds.
pub(crate) fn check_item(krate: &TokenStream, item: &mut Item) {
    Rewriter::new(krate).item(item);
}

struct Rewriter<'a> {
    /// The path to tether.
    krate: &'a TokenStream,
    /// One entry per block being walked, innermost last: the probes to run at its end, or
    /// `None` where a probe must run in place (a closure's expression body, a block's tail:
    /// code that comes after the block's last statement).
    frames: Vec<Option<Vec<Probe>>>,
    /// Numbers the markers of one expansion.
    next: usize,
}

/// A marker declared at the top of a block and read by a probe at its end.
struct Probe {
    /// The marker variable.
    marker: Ident,
    /// `discard(&marker, verdict)`, spanned at the user's expression.
    check: TokenStream,
}

impl<'a> Rewriter<'a> {
    fn new(krate: &'a TokenStream) -> Self {
        Rewriter {
            krate,
            frames: Vec::new(),
            next: 0,
        }
    }

    /// `EXPR` → the `match` above; `ty` is the pattern's type annotation, if any, applied to
    /// `EXPR` so that it is known where the probe looks at it.
    fn wrap(&mut self, expr: &mut Expr, ty: Option<&Type>) {
        if !is_value(expr) {
            return;
        }
        // Stable proc macros cannot join spans; rustc can. The probe call starts with a token
        // spanned at the expression's first token and ends with one spanned at its last, so
        // rustc's span for the call, and so its error, covers the whole expression.
        let first = expr.span();
        let last = expr
            .to_token_stream()
            .into_iter()
            .last()
            .map_or(first, |token| token.span());
        let krate = &respan(self.krate.clone(), first);
        let value = match ty {
            Some(ty) => quote_spanned!(first=> #krate::__private::owning::typed::<#ty>(#expr)),
            None => expr.to_token_stream(),
        };
        // The marker is the macro's own variable (mixed-site hygiene: the user's code cannot
        // name it, nor shadow it), reported at the user's expression.
        let marker = Ident::new(
            &format!("_tether_judged_{}", self.next),
            Span::mixed_site().located_at(first),
        );
        self.next += 1;
        let mut probe = Group::new(
            Delimiter::Parenthesis,
            quote_spanned!(first=> &#krate::__private::owning::Probe(&#marker)),
        );
        probe.set_span(first);
        let mut call = Group::new(Delimiter::Parenthesis, TokenStream::new());
        call.set_span(last);
        let mut arguments = Group::new(
            Delimiter::Parenthesis,
            quote_spanned!(last=> &#marker, #probe.verdict #call),
        );
        arguments.set_span(last);
        let check = quote_spanned! {first=>
            #[allow(unused_imports)]
            use #krate::__private::owning::{ViaAny as _, ViaOwnsTask as _};
            #krate::__private::owning::discard #arguments;
        };
        let mark = quote_spanned! {first=>
            #marker = #krate::__private::owning::Marker::of(&__tether_value);
        };
        let wrapped = match self.frames.last_mut() {
            Some(Some(probes)) => {
                probes.push(Probe { marker, check });
                quote_spanned! {first=>
                    match #value {
                        // The arm is the macro's: a value of type `!` makes it unreachable,
                        // which the user's `let _ = diverges();` never said.
                        #[allow(unreachable_code, unreachable_patterns)]
                        __tether_value => {
                            #mark
                            __tether_value
                        }
                    }
                }
            }
            _ => quote_spanned! {first=>
                match #value {
                    #[allow(unreachable_code, unreachable_patterns)]
                    __tether_value => {
                        let #marker;
                        #mark
                        #check
                        __tether_value
                    }
                }
            },
        };
        *expr = Expr::Verbatim(wrapped);
    }

    /// Walks the block of a body (a function's, a closure's, an async block's), then declares
    /// the markers of its `let _ =` statements at its top and reads them at its end, before
    /// its tail: every statement of the body has settled their types by then.
    fn body(&mut self, block: &mut Block) {
        self.frames.push(Some(Vec::new()));
        let tail = block
            .stmts
            .last()
            .is_some_and(is_tail)
            .then(|| block.stmts.len() - 1);
        for (index, stmt) in block.stmts.iter_mut().enumerate() {
            // The tail comes after the probes: what it holds is probed in place, or at the end
            // of a block of its own.
            let in_place = Some(index) == tail;
            if in_place {
                self.frames.push(None);
            }
            self.stmt(stmt);
            if in_place {
                self.frames.pop();
            }
        }
        let probes = self.frames.pop().flatten().unwrap_or_default();
        if probes.is_empty() {
            return;
        }
        let at = tail.unwrap_or(block.stmts.len());
        let checks = probes.iter().map(|probe| &probe.check);
        // After `break`, the checks are type-checked but never run, and the borrow checker
        // sees no use of the markers.
        let end: Stmt = syn::parse_quote! {
            #[allow(unreachable_code)]
            let () = loop {
                break;
                #({ #checks })*
            };
        };
        block.stmts.insert(at, end);
        for probe in probes.iter().rev() {
            let marker = &probe.marker;
            // `mut`: a `let _ =` in a loop assigns its marker on every turn.
            let declaration: Stmt = syn::parse_quote! {
                #[allow(unused_mut)]
                let mut #marker;
            };
            block.stmts.insert(0, declaration);
        }
    }

    /// Walks a block inside a body: its probes wait for the body's end, unless it sits where
    /// they cannot (in the body's tail), where it is probed as a body of its own.
    fn block(&mut self, block: &mut Block) {
        if let Some(Some(_)) = self.frames.last() {
            for stmt in &mut block.stmts {
                self.stmt(stmt);
            }
        } else {
            self.body(block);
        }
    }
}

/// The walk: every statement in every body the item holds, nested closures, async blocks and
/// items included; the children of a statement first, then the statement. Written out by hand
/// (rather than with syn's `visit-mut`, a large generated module that every build of syn would
/// then compile). It does not enter const contexts (const items, `const fn`, const blocks,
/// array lengths, enum discriminants), which cannot call the probe and hold no running task,
/// nor macro invocations, whose tokens are not Rust code yet.
impl Rewriter<'_> {
    fn stmt(&mut self, stmt: &mut Stmt) {
        match stmt {
            Stmt::Local(local) => self.local(local),
            Stmt::Item(item) => self.item(item),
            Stmt::Expr(expr, _) => self.expr(expr),
            Stmt::Macro(_) => {}
        }
    }

    fn local(&mut self, local: &mut Local) {
        let Some(init) = &mut local.init else {
            return;
        };
        self.expr(&mut init.expr);
        if let Some((_, diverge)) = &mut init.diverge {
            self.expr(diverge);
        }
        let ty = match &local.pat {
            Pat::Wild(_) => None,
            Pat::Type(typed) if matches!(*typed.pat, Pat::Wild(_)) => Some((*typed.ty).clone()),
            _ => return,
        };
        self.wrap(&mut init.expr, ty.as_ref());
    }

    fn item(&mut self, item: &mut Item) {
        match item {
            Item::Fn(function) if function.sig.constness.is_none() => {
                self.body(&mut function.block);
            }
            Item::Impl(block) => {
                for item in &mut block.items {
                    match item {
                        ImplItem::Fn(function) if function.sig.constness.is_none() => {
                            self.body(&mut function.block);
                        }
                        _ => {}
                    }
                }
            }
            Item::Trait(definition) => {
                for item in &mut definition.items {
                    if let TraitItem::Fn(function) = item {
                        if let Some(body) = &mut function.default {
                            self.body(body);
                        }
                    }
                }
            }
            Item::Mod(module) => {
                if let Some((_, items)) = &mut module.content {
                    for item in items {
                        self.item(item);
                    }
                }
            }
            _ => {}
        }
    }

    /// The guards of a `match` arm's pattern (`Some(x) if ready(x)`), the only expressions in
    /// a pattern that are not const contexts.
    fn guards(&mut self, pat: &mut Pat) {
        match pat {
            Pat::Guard(guarded) => {
                self.guards(&mut guarded.pat);
                self.expr(&mut guarded.guard);
            }
            Pat::Or(alternatives) => {
                for case in &mut alternatives.cases {
                    self.guards(case);
                }
            }
            Pat::Paren(inner) => self.guards(&mut inner.pat),
            _ => {}
        }
    }

    fn exprs<'e>(&mut self, exprs: impl IntoIterator<Item = &'e mut Expr>) {
        for expr in exprs {
            self.expr(expr);
        }
    }

    fn expr(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Assign(assign) => {
                self.expr(&mut assign.left);
                self.expr(&mut assign.right);
                if matches!(*assign.left, Expr::Infer(_)) {
                    self.wrap(&mut assign.right, None);
                }
            }
            Expr::Array(array) => self.exprs(&mut array.elems),
            Expr::Tuple(tuple) => self.exprs(&mut tuple.elems),
            Expr::Call(call) => {
                self.expr(&mut call.func);
                self.exprs(&mut call.args);
            }
            Expr::MethodCall(call) => {
                self.expr(&mut call.receiver);
                self.exprs(&mut call.args);
            }
            Expr::Binary(binary) => {
                self.expr(&mut binary.left);
                self.expr(&mut binary.right);
            }
            Expr::Index(index) => {
                self.expr(&mut index.expr);
                self.expr(&mut index.index);
            }
            Expr::Range(range) => {
                self.exprs(range.start.as_deref_mut());
                self.exprs(range.end.as_deref_mut());
            }
            Expr::Struct(literal) => {
                self.exprs(literal.fields.iter_mut().map(|field| &mut field.expr));
                self.exprs(literal.rest.as_deref_mut());
            }
            Expr::Async(block) => self.body(&mut block.block),
            Expr::Block(block) => self.block(&mut block.block),
            Expr::Loop(block) => self.block(&mut block.body),
            Expr::TryBlock(block) => self.block(&mut block.block),
            Expr::Unsafe(block) => self.block(&mut block.block),
            Expr::ForLoop(for_loop) => {
                self.expr(&mut for_loop.expr);
                self.block(&mut for_loop.body);
            }
            Expr::While(while_loop) => {
                self.expr(&mut while_loop.cond);
                self.block(&mut while_loop.body);
            }
            Expr::If(branch) => {
                self.expr(&mut branch.cond);
                self.block(&mut branch.then_branch);
                if let Some((_, otherwise)) = &mut branch.else_branch {
                    self.expr(otherwise);
                }
            }
            Expr::Match(choice) => {
                self.expr(&mut choice.expr);
                for arm in &mut choice.arms {
                    self.guards(&mut arm.pat);
                    self.expr(&mut arm.body);
                }
            }
            // A body of its own: its probes cannot wait for the enclosing body's end.
            Expr::Closure(closure) => match &mut *closure.body {
                Expr::Block(block) if block.label.is_none() => self.body(&mut block.block),
                body => {
                    self.frames.push(None);
                    self.expr(body);
                    self.frames.pop();
                }
            },
            Expr::Await(inner) => self.expr(&mut inner.base),
            Expr::Field(inner) => self.expr(&mut inner.base),
            Expr::Cast(inner) => self.expr(&mut inner.expr),
            Expr::Group(inner) => self.expr(&mut inner.expr),
            Expr::Let(inner) => self.expr(&mut inner.expr),
            Expr::Paren(inner) => self.expr(&mut inner.expr),
            Expr::RawAddr(inner) => self.expr(&mut inner.expr),
            Expr::Reference(inner) => self.expr(&mut inner.expr),
            // The length is a const context.
            Expr::Repeat(inner) => self.expr(&mut inner.expr),
            Expr::Try(inner) => self.expr(&mut inner.expr),
            Expr::Unary(inner) => self.expr(&mut inner.expr),
            Expr::Break(inner) => self.exprs(inner.expr.as_deref_mut()),
            Expr::Return(inner) => self.exprs(inner.expr.as_deref_mut()),
            Expr::Yield(inner) => self.exprs(inner.expr.as_deref_mut()),
            // No statements inside: paths, literals, `_`, `continue`, macros (tokens), const
            // blocks (a const context), and what syn may add later.
            _ => {}
        }
    }
}

/// Whether `stmt` is a block's tail: its value, with no `;` after it.
fn is_tail(stmt: &Stmt) -> bool {
    match stmt {
        Stmt::Expr(_, semi) => semi.is_none(),
        Stmt::Macro(mac) => mac.semi_token.is_none(),
        Stmt::Local(_) | Stmt::Item(_) => false,
    }
}

/// `tokens` with every span set to `span`, so that rustc's notes about the call they start
/// point at the user's expression rather than at the attribute.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// Whether `expr` is a value expression that may hold a new task, rather than a place
/// (`let _ = task;` leaves `task` where it is) or a macro (whose expansion may be a place).
fn is_value(expr: &Expr) -> bool {
    match expr {
        Expr::Call(_)
        | Expr::MethodCall(_)
        | Expr::Await(_)
        | Expr::Try(_)
        | Expr::Block(_)
        | Expr::Unsafe(_)
        | Expr::If(_)
        | Expr::Match(_) => true,
        Expr::Paren(inner) => is_value(&inner.expr),
        Expr::Group(inner) => is_value(&inner.expr),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn rewrite(block: TokenStream) -> String {
        let mut block: Block = syn::parse2(block).unwrap();
        check_block(&quote!(::tether), &mut block);
        block.into_token_stream().to_string()
    }

    #[test]
    fn wraps_values_only() {
        let output = rewrite(quote!({
            let _ = tether::create_task(work());
            let _ = task;
            let _ = *boxed;
            let _ = vec![1];
            let _task = tether::create_task(work());
        }));
        assert_eq!(output.matches("__tether_value =>").count(), 1, "{output}");
        assert!(output.contains("let _ = task ;"), "{output}");
        assert!(output.contains("let _ = * boxed ;"), "{output}");
        assert!(
            output.contains("let _task = tether :: create_task"),
            "{output}"
        );
    }

    #[test]
    fn reaches_closures_async_blocks_assignments_and_typed_patterns() {
        let output = rewrite(quote!({
            let f = || {
                let _ = spawn(a);
            };
            let b = async {
                _ = spawn(b).await;
            };
            let _: Task<()> = spawn(c);
        }));
        assert_eq!(output.matches("__tether_value =>").count(), 3, "{output}");
        assert!(
            output.contains(":: tether :: __private :: owning :: typed :: < Task < () > >"),
            "{output}"
        );
    }

    #[test]
    fn reaches_every_kind_of_nested_body() {
        let output = rewrite(quote!({
            if c {
                let _ = spawn(a);
            } else if d {
                let _ = spawn(b);
            } else {
                let _ = spawn(c);
            }
            match x {
                Some(y)
                    if {
                        let _ = spawn(d);
                        true
                    } =>
                {
                    let _ = spawn(e);
                }
                _ => loop {
                    let _ = spawn(f);
                },
            }
            for i in {
                let _ = spawn(g);
                0..1
            } {
                let _ = spawn(h);
            }
            while {
                let _ = spawn(i);
                false
            } {
                let _ = spawn(j);
            }
            unsafe {
                let _ = spawn(k);
            }
            call(
                async {
                    let _ = spawn(l);
                },
                || {
                    let _ = spawn(m);
                },
            );
            value.method(async move {
                let _ = spawn(n);
            });
            let s = S {
                field: async {
                    let _ = spawn(o);
                },
                ..{
                    let _ = spawn(p);
                    d()
                }
            };
            let t = (
                {
                    let _ = spawn(q);
                },
                [async {
                    let _ = spawn(r);
                }],
            );
            let Some(u) = w else {
                let _ = spawn(s);
                return;
            };
            fn inner() {
                let _ = spawn(t);
            }
            impl X {
                fn method(&self) {
                    let _ = spawn(u);
                }
                const fn c() {
                    let _ = g();
                }
            }
            trait Y {
                fn provided(&self) {
                    let _ = spawn(v);
                }
            }
            mod m {
                fn f() {
                    let _ = spawn(w);
                }
            }
            let v = [{
                let _ = spawn(x);
                0
            }; 3];
            return {
                let _ = spawn(y);
            };
        }));
        assert_eq!(output.matches("__tether_value =>").count(), 25, "{output}");
    }

    #[test]
    fn probes_at_the_end_of_each_body_or_in_place() {
        let output = rewrite(quote!({
            let _ = spawn(a);
            if c {
                let _ = spawn(b);
            }
            let f = async {
                let _ = spawn(c);
                tail()
            };
            let g = || _ = spawn(d);
            later();
            { _ = spawn(e) }
        }));
        // The markers of the outer body (a, b) and its probes, before the tail; the async block
        // has its own; the closure's expression body and the outer tail (e) probe in place.
        assert_eq!(
            output.matches("let mut _tether_judged_").count(),
            3,
            "{output}"
        );
        assert_eq!(output.matches("let _tether_judged_").count(), 2, "{output}");
        assert_eq!(output.matches("loop { break ;").count(), 2, "{output}");
        let outer_probe = output.rfind("loop { break ;").unwrap();
        assert!(output.find("later ()").unwrap() < outer_probe, "{output}");
        assert!(
            outer_probe < output.rfind("_tether_judged_4").unwrap(),
            "{output}"
        );
    }

    #[test]
    fn leaves_const_contexts_alone() {
        let output = rewrite(quote!({
            const fn f() {
                let _ = g();
            }
            const X: () = {
                let _ = g();
            };
            let a = [0; {
                let _ = g();
                3
            }];
            let b = const {
                let _ = g();
            };
            static S: () = {
                let _ = g();
            };
            enum E {
                A = {
                    let _ = g();
                    1
                },
            }
        }));
        assert!(!output.contains("__tether_value"), "{output}");
    }
}
