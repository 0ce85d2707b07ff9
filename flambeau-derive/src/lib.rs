//! Derive macros for Flambeau.
//!
//! `#[derive(Module)]` gives a struct what `nn.Module` gives a Python class: every field that is a
//! parameter, a buffer, a module, or an `Option`/`Vec` of those is registered under its field
//! name, in declaration order (`fc1.weight`, `layers.0.bias`). Plain data fields (sizes, rates,
//! strings) are ignored; any other field type needs `#[module(skip)]`.
//!
//! `#[derive(Collate)]` batches a struct of samples field by field, as PyTorch's
//! `default_collate` batches a dict or a namedtuple.

mod collate;

use proc_macro::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, parse_macro_input, spanned::Spanned};

/// Implements `flambeau::nn::Module` (and `ModuleField`, so the struct can be nested in other
/// modules) by visiting the struct's fields in declaration order.
///
/// ```ignore
/// #[derive(Module)]
/// struct Mlp {
///     fc1: Linear,
///     fc2: Linear,
///     dropout_p: f64,          // plain data: ignored
///     #[module(skip)]
///     cache: MyCache,          // anything else: skip explicitly
/// }
/// ```
/// Implements `flambeau::utils::data::Collate` for a struct with named fields, and declares
/// `{Name}Batch` (same visibility) whose field `f` is `<F as Collate>::Output`, the collated column
/// of the samples' `f` fields: tensors stacked, numbers as 1-d tensors, and so on.
///
/// ```ignore
/// #[derive(Collate)]
/// struct Sample {
///     image: Tensor,
///     label: i64,
/// }
/// // SampleBatch { image: Tensor /* [N, ...] */, label: Tensor /* int64 [N] */ }
/// ```
#[proc_macro_derive(Collate)]
pub fn derive_collate(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match collate::expand(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

#[proc_macro_derive(Module, attributes(module))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn is_skipped(field: &syn::Field) -> syn::Result<bool> {
    let mut skip = false;
    for attr in &field.attrs {
        if attr.path().is_ident("module") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("skip") {
                    skip = true;
                    Ok(())
                } else {
                    Err(meta.error("unknown module attribute; expected `skip`"))
                }
            })?;
        }
    }
    Ok(skip)
}

/// Struct-level options: `#[module(extra_repr = "method")]` names an inherent method giving the
/// text inside the repr's parentheses; `#[module(name = "Name")]` overrides the printed class name.
struct StructOptions {
    extra_repr: Option<syn::Ident>,
    name: Option<String>,
}

fn struct_options(input: &DeriveInput) -> syn::Result<StructOptions> {
    let mut opts = StructOptions {
        extra_repr: None,
        name: None,
    };
    for attr in &input.attrs {
        if attr.path().is_ident("module") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("extra_repr") {
                    let s: syn::LitStr = meta.value()?.parse()?;
                    opts.extra_repr = Some(syn::Ident::new(&s.value(), s.span()));
                    Ok(())
                } else if meta.path.is_ident("name") {
                    let s: syn::LitStr = meta.value()?.parse()?;
                    opts.name = Some(s.value());
                    Ok(())
                } else {
                    Err(meta.error("unknown module attribute; expected `extra_repr` or `name`"))
                }
            })?;
        }
    }
    Ok(opts)
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    let opts = struct_options(input)?;
    let name_str = opts.name.clone().unwrap_or_else(|| name.to_string());
    let extra_repr = opts.extra_repr.as_ref().map(|m| {
        quote! {
            fn extra_repr(&self) -> ::std::string::String {
                self.#m()
            }
        }
    });
    // `as_any` needs `Self: 'static`: a generic module's type parameters get that bound.
    let mut generics = input.generics.clone();
    for tp in generics.type_params_mut() {
        tp.bounds
            .push(syn::TypeParamBound::Lifetime(syn::Lifetime::new(
                "'static",
                proc_macro2::Span::call_site(),
            )));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let fields = match &input.data {
        Data::Struct(s) => &s.fields,
        _ => {
            return Err(syn::Error::new(
                input.span(),
                "#[derive(Module)] supports structs only",
            ));
        }
    };
    let mut visits = Vec::new();
    let mut maps = Vec::new();
    let members: Vec<(syn::Member, String, &syn::Field)> = match fields {
        Fields::Named(named) => named
            .named
            .iter()
            .map(|f| {
                let id = f.ident.clone().unwrap();
                let s = id.to_string();
                let s = s.strip_prefix("r#").unwrap_or(&s).to_string();
                (syn::Member::Named(id), s, f)
            })
            .collect(),
        Fields::Unnamed(unnamed) => unnamed
            .unnamed
            .iter()
            .enumerate()
            .map(|(i, f)| (syn::Member::Unnamed(syn::Index::from(i)), i.to_string(), f))
            .collect(),
        Fields::Unit => Vec::new(),
    };
    for (member, key, field) in &members {
        if is_skipped(field)? {
            continue;
        }
        visits.push(quote! {
            ::flambeau::nn::ModuleField::collect(&self.#member, #key, sink);
        });
        maps.push(quote! {
            ::flambeau::nn::ModuleField::map_tensors(&mut self.#member, f);
        });
    }
    Ok(quote! {
        impl #impl_generics ::flambeau::nn::Module for #name #ty_generics #where_clause {
            fn visit_fields<'__a>(&'__a self, sink: &mut ::flambeau::nn::FieldSink<'__a>) {
                #(#visits)*
            }
            fn map_tensors(&mut self, f: &mut dyn FnMut(&::flambeau::Tensor) -> ::flambeau::Tensor) {
                #(#maps)*
            }
            fn type_name(&self) -> ::std::string::String {
                ::std::string::String::from(#name_str)
            }
            #extra_repr
            fn as_dyn(&self) -> &dyn ::flambeau::nn::Module {
                self
            }
            fn as_any(&self) -> ::std::option::Option<&dyn ::std::any::Any> {
                ::std::option::Option::Some(self)
            }
        }
        impl #impl_generics ::std::fmt::Display for #name #ty_generics #where_clause {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&::flambeau::nn::Module::repr(self))
            }
        }
        impl #impl_generics ::flambeau::nn::ModuleField for #name #ty_generics #where_clause {
            fn collect<'a>(&'a self, name: &str, sink: &mut ::flambeau::nn::FieldSink<'a>) {
                sink.child(name, self);
            }
            fn map_tensors(&mut self, f: &mut dyn FnMut(&::flambeau::Tensor) -> ::flambeau::Tensor) {
                ::flambeau::nn::Module::map_tensors(self, f);
            }
        }
    })
}
