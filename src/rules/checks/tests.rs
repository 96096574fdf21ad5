use super::evaluate;
use crate::session::script::Script;

#[test]
fn a_clean_publish_session_raises_nothing() {
    let issues = evaluate(&Script::publish_session(60));
    assert_eq!(issues, vec![], "a clean session must stay clean");
}
