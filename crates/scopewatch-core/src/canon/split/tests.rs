//! The rules of [`super::split_item`], each on an item of its own.

use super::*;

fn names(v: &[Service]) -> Vec<&str> {
    v.iter().map(Service::name).collect()
}

#[test]
fn qualifier_and_formerly_are_not_part_of_the_name() {
    let p = split_item(
        "Power Automate (formerly Microsoft Flow) cloud service either as a standalone service or as included in an Office 365 or Dynamics 365 branded plan or suite",
    );
    assert_eq!(names(&p.services), ["Power Automate"]);
    assert_eq!(names(&p.formerly), ["Microsoft Flow"]);
    assert!(
        p.note
            .unwrap()
            .starts_with("cloud service either as a standalone")
    );
}

#[test]
fn compound_items_name_each_service() {
    let p = split_item("Azure, Azure Government, and Azure Germany");
    assert_eq!(
        names(&p.services),
        ["Azure", "Azure Government", "Azure Germany"]
    );
    let p = split_item("Dynamics 365 and Dynamics 365 U.S. Government");
    assert_eq!(
        names(&p.services),
        ["Dynamics 365", "Dynamics 365 U.S. Government"]
    );
    let p = split_item("Azure、Azure Government、Azure Germany");
    assert_eq!(
        names(&p.services),
        ["Azure", "Azure Government", "Azure Germany"]
    );
    let p = split_item("Dynamics 365, Dynamics 365, and Dynamics 365 Germany");
    assert_eq!(names(&p.services), ["Dynamics 365", "Dynamics 365 Germany"]);
}

#[test]
fn names_with_and_inside_stay_whole() {
    assert_eq!(
        names(&split_item("Office 365 Security & Compliance Center").services),
        ["Office 365 Security & Compliance Center"]
    );
    assert_eq!(
        names(&split_item("Support and Professional Services").services),
        ["Support and Professional Services"]
    );
    assert_eq!(
        names(
            &split_item("Office 365 U.S. Government, Office 365 U.S. Government - High").services
        ),
        [
            "Office 365 U.S. Government",
            "Office 365 U.S. Government - High"
        ]
    );
}

#[test]
fn descriptions_after_colon_dash_or_sentence_are_notes() {
    let p = split_item(
        "Windows Defender ATP: Endpoint Detection & Response, Automatic Investigation & Remediation, Secure Score",
    );
    assert_eq!(names(&p.services), ["Windows Defender ATP"]);
    let p = split_item(
        "Windows Defender ATP - エンドポイントでの検出と対応、自動の調査と修復、セキュリティ スコア",
    );
    assert_eq!(names(&p.services), ["Windows Defender ATP"]);
    let p = split_item(
        "Dynamics 365. The HDS certificate applies to Dynamics 365 Core Online Services.",
    );
    assert_eq!(names(&p.services), ["Dynamics 365"]);
    let p = split_item(
        "Microsoft Defender for Endpoint for the following cloud service portions: Endpoint Detection & Response.",
    );
    assert_eq!(names(&p.services), ["Microsoft Defender for Endpoint"]);
    let p = split_item("Microsoft Forms Pro (not in scope for Azure Government)");
    assert_eq!(names(&p.services), ["Microsoft Forms Pro"]);
    assert_eq!(p.note.as_deref(), Some("not in scope for Azure Government"));
}

#[test]
fn localized_qualifiers_and_former_names() {
    let p = split_item(
        "Microsoft Flow クラウド サービス (スタンドアロン サービス、または Office 365 のプランに含まれるサービス)",
    );
    assert_eq!(names(&p.services), ["Microsoft Flow"]);
    let p = split_item("Power Automate (旧称 Microsoft Flow) クラウド サービス");
    assert_eq!(names(&p.services), ["Power Automate"]);
    assert_eq!(names(&p.formerly), ["Microsoft Flow"]);
    let p = split_item("Ｐｏｗｅｒ　ＢＩ（ｆｏｒｍｅｒｌｙ Ｘ）");
    assert_eq!(names(&p.services), ["Power BI"]);
    assert_eq!(names(&p.formerly), ["X"]);
}

#[test]
fn pointers_name_no_service() {
    let p = split_item("See a detailed list of covered services in Office 365");
    assert!(p.services.is_empty());
    assert!(p.note.is_some());
}

#[test]
fn a_hyphen_before_eight_letters_starts_a_description() {
    assert_eq!(
        names(&split_item("Contoso - abcdefgh").services),
        ["Contoso"]
    );
    assert_eq!(
        names(&split_item("Contoso - abcdefg").services),
        ["Contoso - abcdefg"]
    );
    assert_eq!(
        names(&split_item("Contoso - abcdefg, Fabrikam").services),
        ["Contoso - abcdefg", "Fabrikam"]
    );
}

#[test]
fn each_split_tries_the_first_conjunction_of_the_rest() {
    assert_eq!(
        names(&split_item("Azure A and Azure B and Support and Azure C").services),
        ["Azure A", "Azure B and Support and Azure C"]
    );
    assert_eq!(
        names(&split_item("Teams & Exchange and Exchange Online").services),
        ["Teams & Exchange", "Exchange Online"]
    );
}

#[test]
fn an_including_list_names_services_of_its_parent() {
    let p = split_item("Office 365 Microservices (including but not limited to Kaizala, Sway)");
    assert_eq!(
        names(&p.services),
        ["Office 365 Microservices", "Kaizala", "Sway"]
    );
    assert_eq!(names(&p.included), ["Kaizala", "Sway"]);
    assert_eq!(p.included_in.unwrap().name(), "Office 365 Microservices");
    assert!(p.note.is_none());
}

#[test]
fn a_shared_head_is_given_to_each_name() {
    assert_eq!(
        names(&split_item("Office 365 GCC, Office 365 GCC High, and DoD").services),
        ["Office 365 GCC", "Office 365 GCC High", "Office 365 DoD"]
    );
    assert_eq!(
        names(&split_item("Office 365 and Azure AD login experience").services),
        ["Office 365 login experience", "Azure AD login experience"]
    );
    // The same compound where the head comes first, as in Spanish.
    assert_eq!(
        names(&split_item("Portal de acceso de Office 365 y Azure AD").services),
        [
            "Portal de acceso de Office 365",
            "Portal de acceso de Azure AD"
        ]
    );
    // Names that share no head, or end in a name of their own, stay.
    assert_eq!(
        names(&split_item("Exchange Online, SharePoint Online, and Teams").services),
        ["Exchange Online", "SharePoint Online", "Teams"]
    );
    assert_eq!(
        names(&split_item("Azure, Azure Government, and Azure Germany").services),
        ["Azure", "Azure Government", "Azure Germany"]
    );
}

#[test]
fn a_sentence_names_its_subject() {
    let p = split_item("Azure complies with the guidelines of an industry body");
    assert_eq!(names(&p.services), ["Azure"]);
    assert_eq!(
        p.note.as_deref(),
        Some("complies with the guidelines of an industry body")
    );
}

#[test]
fn scope_bearing_qualifiers_are_told_from_wording() {
    for note in [
        "not in scope for Azure Government",
        "coming soon",
        "GCC High only",
        "excluding Azure China",
        "only in Commercial",
    ] {
        assert_eq!(scope_qualifiers(Some(note)), [note], "{note}");
    }
    assert!(scope_qualifiers(Some("cloud service either as a standalone service")).is_empty());
    assert_eq!(
        scope_qualifiers(Some("Lockbox; not in scope for Azure Government")),
        ["not in scope for Azure Government"]
    );
}

#[test]
fn a_spaced_abbreviation_is_not_a_sentence_end() {
    // Spanish writes "U.S." as "EE. UU.": the first dot ends no sentence.
    assert_eq!(
        names(
            &split_item(
                "Dynamics 365, Dynamics 365 Gobierno de EE. UU., Dynamics 365 Gobierno de EE. UU. - Alto"
            )
            .services
        ),
        [
            "Dynamics 365",
            "Dynamics 365 Gobierno de EE. UU",
            "Dynamics 365 Gobierno de EE. UU. - Alto"
        ]
    );
    // A sentence after an abbreviation still ends the name.
    let p = split_item("Azure AD. The scope covers each tenant.");
    assert_eq!(names(&p.services), ["Azure AD"]);
}

#[test]
fn unbalanced_parenthesis_keeps_text() {
    let p = split_item("Azure (preview");
    assert_eq!(names(&p.services), ["Azure (preview"]);
}

#[test]
fn an_item_split_again_reads_as_it_did_the_first_time() {
    // Near twins: each is split on its own, and read the same every time.
    let items = [
        "Azure, Azure Government",
        "azure, azure government",
        "Azure (formerly Windows Azure), Azure Government",
        "Power Automate (formerly Microsoft Flow)",
        "Power Automate (formerly Microsoft Flow) ",
    ];
    for round in 1..=2 {
        for item in items {
            assert_eq!(
                split_item(item),
                split_text(item),
                "{item:?}, round {round}"
            );
        }
    }
    // Past its memory the thread starts afresh, and still reads them alike.
    for i in 0..=SPLIT_MEMORY {
        split_item(&format!("Service {i}"));
    }
    for item in items {
        assert_eq!(split_item(item), split_text(item), "{item:?}");
    }
    assert_eq!(
        names(&split_item("Power Automate (formerly Microsoft Flow)").formerly),
        ["Microsoft Flow"]
    );
}
