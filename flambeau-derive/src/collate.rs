//! `#[derive(Collate)]`: PyTorch's `default_collate` of a dict or namedtuple, field by field.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields, spanned::Spanned};

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "#[derive(Collate)] supports structs without generic parameters",
        ));
    }
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(f) => &f.named,
            _ => {
                return Err(syn::Error::new(
                    input.span(),
                    "#[derive(Collate)] needs a struct with named fields",
                ));
            }
        },
        _ => {
            return Err(syn::Error::new(
                input.span(),
                "#[derive(Collate)] needs a struct with named fields",
            ));
        }
    };
    let vis = &input.vis;
    let batch = format_ident!("{}Batch", name);
    let idents: Vec<_> = fields.iter().map(|f| f.ident.clone().unwrap()).collect();
    let vises: Vec<_> = fields.iter().map(|f| f.vis.clone()).collect();
    let tys: Vec<_> = fields.iter().map(|f| f.ty.clone()).collect();
    let doc = format!(
        "A batch of [`{name}`]: each field is the collated column of that field (`#[derive(Collate)]`)."
    );
    Ok(quote! {
        #[doc = #doc]
        #vis struct #batch {
            #(
                #[doc = concat!("The collated `", stringify!(#idents), "` fields.")]
                #vises #idents: <#tys as ::flambeau::utils::data::Collate>::Output,
            )*
        }

        impl ::flambeau::utils::data::Collate for #name {
            type Output = #batch;
            #[track_caller]
            fn collate(items: ::std::vec::Vec<Self>) -> #batch {
                #(
                    let mut #idents: ::std::vec::Vec<#tys> =
                        ::std::vec::Vec::with_capacity(items.len());
                )*
                for item in items {
                    #( #idents.push(item.#idents); )*
                }
                #batch {
                    #( #idents: <#tys as ::flambeau::utils::data::Collate>::collate(#idents), )*
                }
            }
        }
    })
}
