//! Every setter of the generated client is documented: the request
//! builders' with what the spec or the overlay says of the parameter, the
//! type builders' with their field's documentation.

use phala_cloud_codegen::generate_from_bytes;

fn generated() -> syn::File {
    let read = |file: &str| {
        std::fs::read(format!("{}/../{file}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
    };
    let generated = generate_from_bytes(
        &read("openapi.json"),
        &read("openapi.overlay.json"),
        &read("openapi.additions.json"),
    )
    .expect("the vendored spec generates");
    syn::parse_file(&generated.client).expect("the client parses")
}

fn has_doc(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("doc"))
}

/// `Type::method` of every public function of the inherent impls in `items`
/// (and, with `nested`, in their `builder` module) without documentation;
/// `count` gets how many there are in all.
fn undocumented(items: &[syn::Item], nested: bool, count: &mut usize) -> Vec<String> {
    let mut missing = Vec::new();
    for item in items {
        match item {
            syn::Item::Impl(imp) if imp.trait_.is_none() => {
                let ty = quote::ToTokens::to_token_stream(&imp.self_ty).to_string();
                for impl_item in &imp.items {
                    let syn::ImplItem::Fn(f) = impl_item else {
                        continue;
                    };
                    if !matches!(f.vis, syn::Visibility::Public(_)) {
                        continue;
                    }
                    *count += 1;
                    if !has_doc(&f.attrs) {
                        missing.push(format!("{ty}::{}", f.sig.ident));
                    }
                }
            }
            syn::Item::Mod(m) if nested && m.ident == "builder" => {
                let items = m.content.as_ref().map_or(&[][..], |(_, i)| i.as_slice());
                missing.extend(undocumented(items, false, count));
            }
            _ => {}
        }
    }
    missing
}

fn module<'a>(items: &'a [syn::Item], name: &str) -> &'a [syn::Item] {
    items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, i)| i.as_slice()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no module {name}"))
}

#[test]
fn no_request_builder_setter_is_undocumented() {
    let file = generated();
    let mut count = 0;
    let missing = undocumented(module(&file.items, "builder"), false, &mut count);
    assert!(count > 200, "{count} request-builder functions");
    assert!(
        missing.is_empty(),
        "{} of {count} request-builder functions undocumented (describe their parameter in openapi.overlay.json):\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn no_type_builder_setter_is_undocumented() {
    let file = generated();
    let mut count = 0;
    let missing = undocumented(module(&file.items, "types"), true, &mut count);
    assert!(count > 500, "{count} type and type-builder functions");
    assert!(
        missing.is_empty(),
        "{} of {count} type-builder functions undocumented:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

/// The README's table of the operations beyond the spec is the one the
/// additions and the operation table make.
#[test]
fn the_readme_lists_every_operation_beyond_the_spec() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let overlay = phala_cloud_codegen::overlay::Overlay::read_beside(root.as_ref())
        .expect("the overlay and the additions parse");
    let table = phala_cloud_codegen::additions::readme_table(overlay.additions());
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    let (start, end) = ("<!-- beyond-the-spec -->\n", "<!-- /beyond-the-spec -->");
    let held = readme
        .split_once(start)
        .and_then(|(_, rest)| rest.split_once(end))
        .map(|(table, _)| table)
        .expect("README.md has the beyond-the-spec markers");
    assert_eq!(
        held, table,
        "README.md's table of the operations beyond the spec is out of date; it should be:\n{table}"
    );
}
