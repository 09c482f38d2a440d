"""Sentence selection and arrangement of extractive answers (no model: scores are set by hand)."""

from dataclasses import replace

import pytest

from knowledge.answer import Candidate, _select, section_label


def cand(text: str, doc: int, passage: int, order: int, score: float) -> Candidate:
    return Candidate(text=text, doc_rank=doc, passage_rank=passage, order=order, score=score)


def test_the_passage_holding_the_best_sentence_comes_first_and_keeps_its_order():
    cands = [
        cand("An intro sentence of the first document.", 0, 0, 0, 0.50),
        cand("A second sentence of the first document.", 0, 0, 1, 0.45),
        cand("Context that comes before the answer here.", 1, 0, 0, 0.60),
        cand("The answer itself, the best sentence of all.", 1, 0, 1, 0.70),
    ]
    chosen = [c.text for c in _select(cands)]
    # the best sentence's passage leads; inside it, document order (context, then the answer)
    assert chosen[:2] == [cands[2].text, cands[3].text]
    assert chosen[2:] == [cands[0].text, cands[1].text]


def test_sentences_far_below_the_best_are_left_out():
    cands = [cand("The strong answer sentence is this one.", 0, 0, 0, 0.9),
             cand("A weak and unrelated sentence of filler.", 0, 1, 0, 0.5)]
    assert [c.text for c in _select(cands)] == [cands[0].text]


def test_nothing_is_selected_from_unscored_candidates():
    assert _select([cand("Never scored because it was too short.", 0, 0, 0, -1.0)]) == []


def test_later_picks_come_without_the_lines_after_them_so_a_lower_best_sentence_still_fits():
    def filler(tag: str, n: int) -> str:
        return (f"{tag} " + "word " * n).strip() + "."

    cands = [
        cand(filler("First best", 18), 0, 0, 0, 0.90), cand(filler("First next", 18), 0, 0, 1, 0.10),
        cand(filler("Second best", 18), 1, 0, 0, 0.85), cand(filler("Second next", 18), 1, 0, 1, 0.10),
        cand(filler("Third best", 18), 2, 0, 0, 0.80), cand(filler("Third next", 60), 2, 0, 1, 0.10),
        cand(filler("Fourth best", 28), 3, 0, 0, 0.75),
    ]
    chosen = [c.text.split()[0] + " " + c.text.split()[1] for c in _select(cands)]
    # the two first picks bring the sentence after them; the third comes alone, which leaves room for the fourth
    assert chosen == ["First best", "First next", "Second best", "Second next", "Third best", "Fourth best"]


def test_a_later_pick_that_refers_back_still_brings_the_sentence_it_refers_to():
    cands = [cand("The best sentence of all is this one here.", 0, 0, 0, 0.9),
             cand("The second best sentence is this one here.", 1, 0, 0, 0.85),
             cand("ANTBIT.IO deploys distributed compute frameworks.", 2, 0, 0, 0.1),
             cand("It will be the first client to access the APIs.", 2, 0, 1, 0.8),
             cand("A line after it that only a first pick would bring.", 2, 0, 2, 0.1)]
    cands[3].antecedent = cands[2].text
    chosen = [c.text for c in _select(cands)]
    assert chosen[-2:] == [cands[2].text, cands[3].text]


def test_section_label_drops_the_repeated_title():
    assert section_label("Take rates", "Take rates > USDC leases") == "USDC leases"
    assert section_label("Take rates", "Take rates") == ""
    assert section_label("Take rates", "Fees") == "Fees"


def _doc(doc_id: int, key: str, text: str, cosine: float):
    from knowledge.retrieve import DocumentHit, Passage

    passage = Passage(chunk_id=doc_id, document_id=doc_id, key=key, protocol="bittensor", title=key, section="",
                      text=text, url="", date="", position=0, cosine=cosine, score=1.0 / doc_id)
    return DocumentHit(doc_id, key, "bittensor", key, "", "", 1.0 / doc_id, [passage])


def test_hybrid_confidence_also_needs_the_dense_ranking_to_hold_the_rare_terms():
    """A near miss: BM25 finds the one passage that repeats the question's rare words, in a list of what
    subnets do, while every passage close in meaning is about netuids in general: the answer is not held."""
    from knowledge.answer import TermStats, compose
    from knowledge.embed import HashEmbedder
    from knowledge.retrieve import Retrieval

    question = "which netuid is the protein folding subnet?"
    lists_it = _doc(1, "index.md", "Subnets produce compute, storage, protein folding and market predictions.", 0.45)
    netuid = _doc(2, "glossary.md", "A netuid is the unique identifier of a subnet within the network.", 0.70)
    api = _doc(3, "api.md", "Returns information about a subnet with a given netuid at a block.", 0.65)
    terms = TermStats(df={"netuid": 400, "protein": 1, "folding": 2, "subnet": 900}, chunks=8000)
    embedder = HashEmbedder()
    vector = embedder.encode([question])[0]

    def retrieval(dense_documents):
        return Retrieval(question=question, mode="hybrid", terms=["netuid", "protein", "folding", "subnet"],
                         protocols=["bittensor"], documents=[lists_it, netuid, api], query_vector=vector,
                         top_cosine=0.70, agreement=0.3, dense_documents=dense_documents)

    fused_only = compose(question, retrieval([]), embedder, terms, threshold=0.2)
    both = compose(question, retrieval([netuid, api]), embedder, terms, threshold=0.2)
    assert not fused_only.declined and both.confidence < fused_only.confidence
    assert both.evidence.features["dense_view_confidence"] == round(both.confidence, 4)
    assert both.declined
    # when the dense ranking's own top documents do hold the rare words, nothing changes
    agrees = compose(question, retrieval([lists_it, netuid]), embedder, terms, threshold=0.2)
    assert agrees.confidence == fused_only.confidence


def test_a_sentence_that_refers_back_brings_the_sentence_it_refers_to():
    from knowledge.answer import _candidates, _window

    doc = _doc(1, "RNP-004.md", "The RNP proposes an API for external clients. ANTBIT.IO deploys distributed compute "
               "frameworks. It will be the first client to access the Render Network APIs.", 0.6)
    cands = _candidates([doc])
    first_client = next(i for i, c in enumerate(cands) if c.text.startswith("It will be"))
    assert cands[first_client].antecedent.startswith("ANTBIT.IO deploys")
    assert not cands[0].antecedent  # an opening sentence refers to nothing before it
    unit = [c.text for c in _window(cands, first_client, budget=450)]
    assert unit[0].startswith("ANTBIT.IO deploys") and unit[1].startswith("It will be")
    # the sentence referred to counts toward the window's budget: one too long to fit stays out
    assert [c.text for c in _window(cands, first_client, budget=80)][0].startswith("It will be")


def test_only_a_real_when_question_asks_for_a_date():
    from knowledge.answer import _WHEN_DID

    asks = ["when exactly did dynamic TAO go live on mainnet?", "When was RNP-001 approved?",
            "what year did Akash launch?", "When is the next halving?"]
    does_not = ["what happens when a lease closes?", "when my escrow runs out, what happens?",
                "when USDC payments went live with Mainnet 6, what take rate was set?"]
    assert all(_WHEN_DID.search(q) for q in asks)
    assert not any(_WHEN_DID.search(q) for q in does_not)


def test_price_predictions_and_profit_advice_are_opinion_questions():
    from knowledge.answer import is_opinion_question

    opinions = ["will the TAO price go up after the next halving?",
                "which bittensor subnet is the best one to mine right now if I just want max profit?",
                "is akash a better bet than render for inference? which one would you pick?",
                "is AKT bullish here?", "what's the most profitable GPU to run on Render?",
                "how many RENDER tokens are going to get burned in total during 2099?",
                "how many subnets will bittensor have by the end of next year?",
                "what will akash's take rate be in five years?",
                "should I hold or sell my TAO?", "the price keeps falling, will it go up again?",
                # a guess asked for, and a change still to come
                "how high do you reckon akash governance will push the take rate by 2099?",
                "once BME is fully running on akash, how much will AKT supply shrink over the next two years?",
                "console or the cli for deploying on akash, which one do you actually prefer?"]
    facts = ["what is the best way to deploy a subnet locally?", "does the emission go down after a halving?",
             "which GPU tiers does RNP-021 reward?", "what happens to the price of a subnet's alpha token when I stake?",
             "what does the Render roadmap plan for 2099?", "how many TAO were emitted in 2024?",
             "what will happen to my lease if my escrow runs out?", "how many subnets does bittensor have?",
             "what does RNP-022 plan for next year's RenderCon?",
             "how much will the take rate change once the proposal passes?",  # no time still to come
             "which GPU models does the akash docs recommend for providers?",
             # a requirement, and a subnet's storage, not advice or a price move
             "can anybody join the render governance channels, or do you need to actually hold the token?",
             "do I need to stake AKT to run a provider?",
             "the scraping subnet (sn3) pulls posts from reddit - where does it dump all that data?"]
    assert all(is_opinion_question(q) for q in opinions)
    assert not any(is_opinion_question(q) for q in facts)


def test_a_word_the_knowledge_base_never_uses_counts_once_not_as_a_missing_rare_term():
    """Slang ('rigs') is unknown to the whole knowledge base: it counts as an unknown term only, while a
    rare word the knowledge base does use elsewhere ('nerfed', in one chunk) and the passages lack is missing."""
    from knowledge.answer import Evidence, TermStats, _fill_evidence

    doc = _doc(1, "RNP-015.md", "Availability rewards are reduced for wallets running more than 3 nodes.", 0.5)
    terms = TermStats(df={"run": 700, "6": 300, "rigs": 0, "wallet": 800, "availability": 300, "rewards": 280, "nerfed": 1},
                      chunks=8000)
    ev = Evidence()
    _fill_evidence(ev, "I run 6 rigs on one wallet, do my availability rewards get nerfed?", [doc], 0.5,
                   ["render"], [], terms)
    assert ev.unknown_terms == 1 and ev.rare_missing == 1


def test_a_plural_acronym_in_the_question_matches_its_singular_in_the_passages():
    """'PCs' and 'GPUs' are the passages' 'PC' and 'GPU': Porter2 alone keeps their 's', so they counted as
    rare terms the retrieved text lacks, and an answerable question was declined."""
    from knowledge.answer import Evidence, TermStats, _fill_evidence, _stem

    assert _stem("pcs") == _stem("pc") and _stem("gpus") == _stem("gpu") and _stem("h100s") == _stem("h100")
    assert _stem("bus") == "bus" and _stem("plus") == "plus" and _stem("gas") == "gas"
    doc = _doc(1, "RNP-023.md", "Salad lets PC owners earn rewards by sharing idle GPU power with H100 clusters.", 0.5)
    terms = TermStats(df={"salad": 4, "pcs": 3, "gpus": 5, "h100s": 2, "idle": 40}, chunks=8000)
    ev = Evidence()
    _fill_evidence(ev, "Do Salad's idle PCs, GPUs and H100s earn?", [doc], 0.5, ["render"], [], terms)
    assert ev.rare_missing == 0 and ev.coverage == 1.0


def test_a_compound_in_the_question_matches_the_two_words_the_passages_write():
    from knowledge.answer import Evidence, TermStats, _fill_evidence

    doc = _doc(1, "stable-payment-deployments.md", "Currently supported Stable Coins: Axelar USDC.", 0.5)
    terms = TermStats(df={"stablecoin": 3, "akash": 900, "pay": 300}, chunks=8000)
    ev = Evidence()
    _fill_evidence(ev, "which stablecoin can I pay akash with?", [doc], 0.5, ["akash"], [], terms)
    assert ev.rare_missing == 0


def test_a_table_row_is_scored_and_shown_under_its_header_row():
    from knowledge.answer import _candidates, _window

    doc = _doc(1, "networks.md", "The table compares the networks:\n| DESCRIPTION | MAINNET | DEVNET |\n|:---|:---|:---|\n"
               "| Chain URL | wss://main | wss://dev |\n| Network Purpose | For all | For OTF-internal development only |",
               0.6)
    cands = _candidates([doc])
    purpose = next(i for i, c in enumerate(cands) if c.text.startswith("Network Purpose"))
    assert cands[purpose].header == "DESCRIPTION | MAINNET | DEVNET"
    assert not next(c for c in cands if c.text.startswith("DESCRIPTION")).header  # the header row has none
    assert not cands[0].header  # nor has prose
    unit = [c.text for c in _window(cands, purpose, budget=450)]
    assert unit[0] == "DESCRIPTION | MAINNET | DEVNET" and unit[1].startswith("Network Purpose")


def _want_bonus(question: str, sentence: str) -> float:
    """The bonus a sentence gets for being the kind of answer the question asks for (0 when none applies)."""
    from knowledge.answer import _ASKS

    return max((b for ask, answer, b in _ASKS if ask.search(question) and answer.search(sentence)), default=0.0)


def test_a_question_for_an_address_or_flag_wants_the_sentence_that_spells_it_out():
    question = "what's the contract address of the staking precompile on the subtensor EVM?"
    spelled = "Copy staking precompile address `0x0000000000000000000000000000000000000801` to the At Address field."
    mentioned = "Remix IDE will find the precompile at the precompile address on the subtensor EVM."
    assert _want_bonus(question, spelled) > _want_bonus(question, mentioned) == 0.0
    flag = "Start it with --sync=warp and --pruning."
    assert _want_bonus("which sync flag do I pass for a lite node?", flag) > 0
    assert _want_bonus("what does the staking precompile do?", spelled) == 0.0  # not asked for: no bonus
    package = "Install it with npm: `npm install @akashnetwork/chain-sdk`."
    about = "The Chain SDK consolidates the CLI packages and their types."
    assert _want_bonus("what's the npm package name for akash's new chain SDK?", package) > 0
    assert _want_bonus("what's the npm package name for akash's new chain SDK?", about) == 0.0
    assert _want_bonus("which package do I import?", "Use @scope/name-v2 from the registry.") > 0


def test_a_percentage_question_whose_best_sentences_hold_none_lowers_the_confidence():
    from knowledge.answer import Evidence, TermStats, _fill_evidence, confidence_from

    question = "what was the final vote on RNP-023, like what % voted yes?"
    doc = _doc(1, "RNP-023.md", "RNP-023 was approved after the final vote.", 0.6)
    terms = TermStats(df={"final": 180, "vote": 115, "rnp-023": 51, "voted": 115}, chunks=8000)

    def evidence(sentences: list[str]) -> Evidence:
        ev = Evidence()
        cands = [cand(s, 0, 0, i, 0.6 - 0.01 * i) for i, s in enumerate(sentences)]
        _fill_evidence(ev, question, [doc], 0.6, ["render"], cands, terms)
        return ev

    without = evidence(["RNP-023 was approved after the final vote.", "The vote ran on Snapshot for 6 days."])
    with_share = evidence(["RNP-023 was approved after the final vote.", "92% of the votes cast were yes."])
    assert without.kind_missing and not with_share.kind_missing
    assert confidence_from(without) < confidence_from(with_share)
    # a question that asks for no percentage is not affected
    plain = Evidence()
    _fill_evidence(plain, "was RNP-023 approved?", [doc], 0.6, ["render"], [cand("It was approved.", 0, 0, 0, 0.5)], terms)
    assert not plain.kind_missing


def test_a_question_naming_the_date_or_block_it_wants_needs_a_best_sentence_holding_one():
    from knowledge.answer import Evidence, TermStats, _fill_evidence

    question = "on what exact date / block number does the first TAO halving happen?"
    doc = _doc(1, "emissions.md", "TAO emission follows a halving schedule.", 0.6)
    terms = TermStats(df={"exact": 90, "date": 200, "block": 900, "number": 800, "halving": 12}, chunks=8000)

    def kind_missing(sentences: list[str], asked: str = question) -> bool:
        ev = Evidence()
        cands = [cand(s, 0, 0, i, 0.6 - 0.01 * i) for i, s in enumerate(sentences)]
        _fill_evidence(ev, asked, [doc], 0.6, ["bittensor"], cands, terms)
        return ev.kind_missing

    assert kind_missing(["TAO emission follows a halving schedule.", "The network emits 7,200 TAO per day."])
    assert not kind_missing(["The first halving happened on December 14, 2025."])
    assert not kind_missing(["The first halving is at block 10,500,000."])
    # "when" alone does not name a date: the one dev question it touched was answered without one
    assert not kind_missing(["TAO emission follows a halving schedule."], "when does the first TAO halving happen?")


def test_rows_of_a_table_continued_from_the_chunk_before_are_read_under_its_header():
    """A long table is cut into chunks; the chunk that continues it starts with a data row, which is not
    its header: its rows keep the header row of the chunk before (the same document, as many cells)."""
    from knowledge.answer import _candidates, _window
    from knowledge.retrieve import Passage

    first = _doc(1, "networks.md", "The table compares the networks:\n| DESCRIPTION | MAINNET | DEVNET |\n"
                 "|:---|:---|:---|\n| Chain URL | wss://main | wss://dev |", 0.6)
    rest = Passage(chunk_id=2, document_id=1, key="networks.md", protocol="bittensor", title="networks.md",
                   section="", text="| Network Purpose | For all | For OTF-internal development only |\n"
                   "| Faucet | None | Available on internal project-basis |", url="", date="", position=1)
    first.passages = [rest, first.passages[0]]  # the continuation ranks first
    cands = _candidates([first])
    purpose = next(i for i, c in enumerate(cands) if c.text.startswith("Network Purpose"))
    assert cands[purpose].header == "DESCRIPTION | MAINNET | DEVNET"
    assert next(c for c in cands if c.text.startswith("Faucet")).header == "DESCRIPTION | MAINNET | DEVNET"
    unit = [c.text for c in _window(cands, purpose, budget=450)]
    assert unit[0] == "DESCRIPTION | MAINNET | DEVNET" and unit[1].startswith("Network Purpose")


def test_a_row_is_scored_by_the_cell_of_the_column_the_question_names():
    from knowledge.answer import Candidate, _column_focus, _stem

    header = "DESCRIPTION | MAINNET | TESTNET | DEVNET"
    purpose = Candidate("Network Purpose | For all | For all | For OTF-internal development only", 0, 0, 0,
                        header=header)
    faucet = Candidate("Faucet | Available | None | None", 0, 0, 1, header=header)

    def stems(question: str) -> dict[str, float]:
        return {_stem(w): 1.0 for w in question.lower().replace("?", "").split()}

    devnet = stems("can I use the devnet to try out my subnet?")
    assert _column_focus(purpose, devnet) == "Network Purpose, DEVNET: For OTF-internal development only"
    assert _column_focus(faucet, devnet) == ""  # its devnet cell holds nothing: scored as a whole row
    assert _column_focus(purpose, stems("what networks are there?")) == ""  # no column named
    assert _column_focus(purpose, stems("how do testnet and devnet differ?")) == ""  # two columns named
    assert _column_focus(Candidate("Just prose here.", 0, 0, 2), devnet) == ""


def test_a_capitalised_name_the_knowledge_base_never_uses_lowers_the_confidence():
    """'what APR does Lido pay...' is about an outside project: Lido is in no chunk. Chatty words the corpus
    lacks are written in lower case ('rigs') and a question's first word is capitalised anyway."""
    from knowledge.answer import Evidence, TermStats, confidence_from, unknown_names

    terms = TermStats(df={"apr": 40, "lido": 0, "pay": 900, "staking": 700, "eth": 25, "rigs": 0, "akash": 5000,
                          "sourdough": 0}, chunks=8000)
    assert unknown_names("what APR does Lido pay for staking ETH right now?", terms) == ["lido"]
    assert unknown_names("I run 6 rigs on Akash, do my rewards drop?", terms) == []
    assert unknown_names("Sourdough starters: how do I feed one? Lido knows.", terms) == []
    evidence = dict(top_cosine=0.5, best_sentence_cosine=0.48, coverage=0.6)
    assert confidence_from(Evidence(**evidence, unknown_names=1)) < 0.25 < confidence_from(Evidence(**evidence))


def test_the_fifth_documents_sentences_are_answer_candidates_too():
    """Four documents with long passages held the first 90 sentences, and the cap cut the fifth source's
    sentences (RNP-013, which answers 'why did they drop the liquidity provider rewards') before scoring."""
    from knowledge.answer import SENTENCE_DOCS, _candidates

    documents = [_doc(i, f"rnp-{i}.md", " ".join(f"Document {i} states fact number {n} here." for n in range(25)), 0.5)
                 for i in range(1, SENTENCE_DOCS + 1)]
    cands = _candidates(documents)
    assert {c.doc_rank for c in cands} == set(range(SENTENCE_DOCS))
    assert sum(c.doc_rank == SENTENCE_DOCS - 1 for c in cands) == 25


def test_a_rate_question_wants_the_sentence_giving_an_amount_per_that_unit():
    question = "how much per hour does a 4090 cost on the Render compute network?"
    rate = "RTX 4090: $0.35/hr"
    some_number = "RTX 4090 (100 hours): 25 x 1 x (100/168) = 14.88 RENDER (job) + 1.99 (availability)"
    # any number still gets the numeric bonus
    assert _want_bonus(question, rate) > _want_bonus(question, some_number) > 0
    assert _want_bonus("what's the monthly cost per GB of storage?", "Storage costs 2 uakt per GB each block.") > 0.06
    assert _want_bonus("how much does a 4090 cost?", rate) == _want_bonus("how much does a 4090 cost?", some_number)


def test_a_lower_ranked_page_closer_in_meaning_than_the_top_three_counts_as_retrieved_text():
    """A one-chunk page at cosine 0.71 ranks last among five (pages with two fair chunks outscore it): the
    question's rare words it holds ('disconnecting', 'worried') are not missing from what was retrieved."""
    from knowledge.answer import Evidence, TermStats, _fill_evidence

    question = "my node log is full of 'Genesis mismatch. Banned, disconnecting' messages, should I be worried?"
    near = [_doc(i, f"node-{i}.md", "Run a lite node to sync the chain from a recent block.", 0.43) for i in (1, 2, 3)]
    errors = _doc(4, "errors.md", "Genesis mismatch: banned, disconnecting. You need not be worried: ignore them.",
                  0.71)
    far = _doc(5, "other.md", "Genesis accounts are added to the chain before launch.", 0.30)
    terms = TermStats(df={"node": 900, "log": 300, "full": 400, "genesis": 40, "mismatch": 6, "banned": 4,
                          "disconnecting": 3, "messages": 200, "worried": 2}, chunks=8000)
    held = Evidence()
    _fill_evidence(held, question, near + [errors], 0.43, [], [], terms)
    assert held.rare_missing == 0
    # the same page no closer in meaning than the top three does not count: those words stay missing
    same_text_less_close = _doc(6, "errors-copy.md", errors.passages[0].text, 0.40)
    lower = Evidence()
    _fill_evidence(lower, question, near + [far, same_text_less_close], 0.43, [], [], terms)
    assert lower.rare_missing == 3


def test_a_figure_asked_about_a_name_must_come_from_a_page_that_names_it():
    from knowledge.answer import TermStats, figure_without_its_name

    exabits = _doc(1, "RNP-010.md", "RNP-010 proposes Exabits as a compute client for the Render Network.", 0.6)
    fedml = _doc(2, "RNP-005.md", "A working group is granted 50K RENDER tokens on a milestone basis.", 0.5)
    terms = TermStats(df={"exabits": 9, "render": 2000, "tokens": 400, "rnp": 300}, chunks=8000)
    question = "how many RENDER tokens did the Exabits compute client RNP ask for?"
    figure_elsewhere = [cand("RNP-010 proposes Exabits as a compute client for the Render Network.", 0, 0, 0, 0.7),
                        cand("A working group is granted 50K RENDER tokens on a milestone basis.", 1, 0, 0, 0.6)]
    assert figure_without_its_name(question, figure_elsewhere, [exabits, fedml], terms)
    # the figure on the named page itself is bound to the name
    exabits_asks = _doc(1, "RNP-010.md", "Exabits asks for 100K RENDER tokens.", 0.6)
    bound = [cand("Exabits asks for 100K RENDER tokens.", 0, 0, 0, 0.7)]
    assert not figure_without_its_name(question, bound, [exabits_asks, fedml], terms)
    # a common capitalised word is not a name to bind ("Render" is in 2,000 chunks), nor a month, nor a
    # question that asks no amount
    assert not figure_without_its_name("how many tokens does the Render network burn?", figure_elsewhere,
                                       [exabits, fedml], terms)
    assert not figure_without_its_name("how many tokens were granted in Aug?", figure_elsewhere,
                                       [exabits, fedml], TermStats(df={"aug": 3}, chunks=8000))
    assert not figure_without_its_name("when did the Exabits RNP go live?", figure_elsewhere, [exabits, fedml], terms)


def _sectioned_doc(doc_id: int, title: str, sections: list[tuple[str, str]]):
    """A document whose passages are (section path, text) pairs, in order."""
    from knowledge.retrieve import DocumentHit, Passage

    passages = [Passage(chunk_id=doc_id * 100 + i, document_id=doc_id, key=f"{doc_id}.md", protocol="bittensor",
                        title=title, section=section, text=text, url="", date="", position=i, cosine=0.5,
                        score=1.0 / (i + 1)) for i, (section, text) in enumerate(sections)]
    return DocumentHit(doc_id, f"{doc_id}.md", "bittensor", title, "", "", 1.0, passages)


def test_a_section_whose_whole_body_is_a_short_value_is_read_with_its_heading():
    """A subnet page lists 'Subnet owner' over the one line 'Macrocosmos': alone, a one-word line is not even
    scored, and an answer holding it would not say what it is."""
    from knowledge.answer import _candidates

    doc = _sectioned_doc(1, "Subnet 1", [
        ("Subnet 1 > Subnet owner", "Macrocosmos"),
        ("Subnet 1 > Netuid", "1"),
        ("Subnet 1 > Description", "Incentivizes miners who produce the best prompt completions."),
        ("Subnet 1", "Text prompting"),  # under the title alone there is no heading to name it
    ])
    texts = [c.text for c in _candidates([doc])]
    assert "Subnet owner: Macrocosmos" in texts and "Netuid: 1" in texts
    assert "Incentivizes miners who produce the best prompt completions." in texts  # a sentence is left as is
    assert "Text prompting" in texts


def test_a_sentence_under_a_heading_the_question_names_word_for_word_scores_higher():
    """An error page has one section per code ('Custom error: 0', 'Custom error: 5'): the question quoting
    one code wants that section, whose answer ('ColdKeyInSwapSchedule') shares no word with it."""
    from knowledge import answer
    from knowledge.answer import TermStats, _candidates, _heading_is_asked, _score_candidates, _stem
    from knowledge.embed import HashEmbedder
    from knowledge.retrieve import Retrieval
    from knowledge.text import words

    question = "getting 'Custom error: 0' whenever i try a transfer, what does that one mean?"
    stems = {_stem(w) for w in words(question)}
    assert _heading_is_asked("Custom error: 0", stems)
    assert not _heading_is_asked("Custom error: 5", stems)  # one word (the code) is not asked
    assert not _heading_is_asked("Transfer", stems)  # a one-word heading is too common to tell
    doc = _sectioned_doc(1, "Subtensor Error Messages", [
        ("Subtensor Error Messages > Custom error: 0", "Error: ColdKeyInSwapSchedule. Your coldkey is set to be swapped."),
        ("Subtensor Error Messages > Custom error: 5", "Error: SlippageTooHigh. The slippage exceeds your limit today."),
    ])
    embedder = HashEmbedder()
    retrieval = Retrieval(question=question, mode="hybrid", terms=[], protocols=[], documents=[doc],
                          query_vector=embedder.encode([question])[0])
    terms = TermStats(df={"custom": 40, "error": 300, "transfer": 200}, chunks=8000)

    def scores(bonus: float) -> dict[str, float]:
        old = answer.HEADING_BONUS
        answer.HEADING_BONUS = bonus
        try:
            cands = _candidates([doc])
            _score_candidates(question, cands, retrieval, embedder, terms)
        finally:
            answer.HEADING_BONUS = old
        return {c.text: c.score for c in cands}

    with_bonus, without = scores(0.06), scores(0.0)
    asked = "Your coldkey is set to be swapped."
    other = "The slippage exceeds your limit today."
    assert abs(with_bonus[asked] - without[asked] - 0.06) < 1e-9
    assert with_bonus[other] == without[other]


def test_a_month_written_short_matches_the_month_written_out_and_is_never_a_missing_rare_term():
    """'that Aug 2023 piece' refers to a page dated 'August 31, 2023': the short month is the same word, and
    a month names when a page was written, not what it is about, so a page without it is no near miss."""
    from knowledge.answer import Evidence, TermStats, _fill_evidence, _stem

    assert _stem("aug") == _stem("august") and _stem("sept") == _stem("september") == _stem("sep")
    doc = _doc(1, "seed.txt", "Akash must solve the chicken-and-egg problem of building GPU supply first.", 0.5)
    terms = TermStats(df={"aug": 5, "2023": 70, "piece": 8, "akash": 2000, "big": 14, "hurdle": 1, "call": 130},
                      chunks=8000)
    ev = Evidence()
    _fill_evidence(ev, "that Aug 2023 piece - what did it call akash's big hurdle?", [doc], 0.5, ["akash"], [], terms)
    assert ev.rare_missing == 1  # "hurdle"; the month does not count


def test_a_numbered_series_member_written_as_two_words_is_an_identifier_the_passages_must_name():
    """'Mainnet 11' asked, the Mainnet 10 upgrade page retrieved: the question's upgrade is not held."""
    from knowledge.answer import Evidence, TermStats, _fill_evidence, _series_numbers

    assert _series_numbers("the akash mainnet 11 upgrade and subnet 01") == {"mainnet11", "subnet1"}
    assert _series_numbers("see AEP-77 and Mainnet 6", spaced_only=True) == {"mainnet6"}
    page = _doc(1, "mainnet10.md", "The Akash Mainnet 10 upgrade took place at upgrade height 8998907.", 0.6)
    terms = TermStats(df={"block": 900, "height": 300, "akash": 2000, "mainnet": 120, "11": 400, "upgrade": 600},
                      chunks=8000)
    question = "what block height did the akash mainnet 11 upgrade happen at?"
    ev = Evidence()
    _fill_evidence(ev, question, [page], 0.6, ["akash"], [], terms)
    assert ev.unknown_ids == 1
    held = Evidence()
    _fill_evidence(held, question.replace("11", "10"), [page], 0.6, ["akash"], [], terms)
    assert held.unknown_ids == 0


def test_an_ordinal_or_an_amount_with_its_unit_is_a_figure_not_an_identifier():
    """'add a 4th child hotkey': the page writes "all four", and "4th" is no name it must hold; B200 still is."""
    from knowledge.answer import Evidence, TermStats, _fill_evidence

    page = _doc(1, "child-hotkeys.md", "To add a child hotkey, set all four child hotkeys again in one call.", 0.6)
    terms = TermStats(df={"child": 40, "hotkeys": 300, "add": 500, "4th": 0, "netuid": 200, "b200": 0,
                          "120gi": 0, "4.5m": 0}, chunks=8000)
    for question in ("i have 3 child hotkeys on a netuid, how do i add a 4th?",
                     "can i add a child hotkey with 120Gi of storage or a 4.5M stake?"):
        ev = Evidence()
        _fill_evidence(ev, question, [page], 0.6, [], [], terms)
        assert ev.unknown_ids == 0, question
    named = Evidence()
    _fill_evidence(named, "can a B200 add a child hotkey?", [page], 0.6, [], [], terms)
    assert named.unknown_ids == 1


def test_a_word_the_knowledge_base_never_uses_does_not_also_lower_the_coverage():
    """'straight' (never used anywhere) is one unknown term; the coverage is of the words the knowledge base
    does use, which the passage here holds every one of."""
    from knowledge.answer import Evidence, TermStats, _fill_evidence

    doc = _doc(1, "install.md", "Running a miner on Windows is not supported; use WSL 2 on your PC.", 0.5)
    terms = TermStats(df={"ok": 8, "run": 800, "miner": 250, "straight": 0, "windows": 96, "pc": 1}, chunks=8000)
    ev = Evidence()
    _fill_evidence(ev, "is it ok to run my miner straight off a windows pc?", [doc], 0.5, ["bittensor"], [], terms)
    assert ev.unknown_terms == 1
    assert ev.coverage > 0.6  # "ok" is the one known word missing


def test_the_second_sentence_of_a_list_item_is_read_with_the_items_first_sentence():
    """'There will be a minimum amount here (say $15)' is about the Reload Balance its item's first sentence
    names: those words count toward it and the first sentence comes along; a new line does not."""
    from knowledge.answer import _candidates, _window

    doc = _doc(1, "AEP-74.md", "Enabling it requires two values:\n"
               "- A Reload Balance (the balance the service reloads to). There will be a minimum amount here (say $15)\n"
               "- A Reload Threshold (what triggers a reload). There will be a minimum amount for this also (say $5)\n\n"
               "There is a global switch in the payment settings page.", 0.6)
    cands = _candidates([doc])
    by_text = {c.text: (i, c) for i, c in enumerate(cands)}
    i, minimum = by_text["There will be a minimum amount here (say $15)"]
    assert minimum.antecedent.startswith("A Reload Balance")
    assert by_text["There will be a minimum amount for this also (say $5)"][1].antecedent.startswith("A Reload Threshold")
    assert not by_text["There is a global switch in the payment settings page."][1].antecedent
    assert [c.text for c in _window(cands, i, budget=450, follow=False)][0].startswith("A Reload Balance")


def test_a_lowest_or_highest_question_matches_the_pages_minimum_or_maximum_and_wants_a_figure():
    from knowledge.answer import _stem

    assert _stem("lowest") == _stem("minimum") == _stem("min") and _stem("highest") == _stem("max")
    question = "what's the lowest reload balance you're allowed to set?"
    assert _want_bonus(question, "There will be a minimum amount here (say $15)") > 0
    assert _want_bonus(question, "The reload balance is what the service reloads to.") == 0


def test_a_what_is_causing_question_wants_the_sentence_giving_the_cause():
    question = "since i switched gvisor on, pods hang in ContainerCreating on a newer ubuntu. what's causing that?"
    cause = "The new systemd has switched to the unified cgroup hierarchy (cgroup v2), which is not supported by gVisor."
    symptom = "Your container will get stuck in ContainerCreating state on your provider with gVisor enabled."
    assert _want_bonus(question, cause) > _want_bonus(question, symptom) == 0
    dropped = "Solana DeFi volumes grew 50-fold, eliminating the need for additional liquidity provider incentives."
    assert _want_bonus("why did they drop the liquidity provider rewards?", dropped) > 0


def _kind_missing(question: str, sentences: list[str]) -> bool:
    from knowledge.answer import Evidence, TermStats, _fill_evidence

    doc = _doc(1, "page.md", sentences[0], 0.6)
    ev = Evidence()
    cands = [cand(s, 0, 0, i, 0.6 - 0.01 * i) for i, s in enumerate(sentences)]
    _fill_evidence(ev, question, [doc], 0.6, [], cands, TermStats(df={}, chunks=8000))
    return ev.kind_missing


def test_a_discount_question_needs_a_best_sentence_giving_a_share_or_an_amount():
    question = "for akash reserved instances, how big of a discount would a 12 month reservation get?"
    assert _kind_missing(question, ["Bids are for on-demand leases and for reservations of 3, 6, 9 and 12 months.",
                                    "The longer the reservation, the lower the price."])
    assert not _kind_missing(question, ["A 12 month reservation is priced 30% below an on-demand lease."])
    assert not _kind_missing(question, ["A 12 month reservation saves $40 a month."])
    assert not _kind_missing("how do reservations work on akash?", ["The longer the reservation, the lower the price."])


def test_a_how_much_akt_question_needs_a_best_sentence_giving_an_amount_in_akt_or_money():
    """'How much AKT does a provider have to stake for AEP-53?': the page has the topic and plenty of numbers
    (dates, percentages, GPU counts), but an amount of AKT is what answers."""
    question = "how much AKT does a provider have to stake to qualify for the onchain incentives?"
    assert _kind_missing(question, ["Providers qualify with 8 or more GPUs online 95% of the time since 2024.",
                                    "Rewards are paid every 30 days."])
    assert not _kind_missing(question, ["A provider stakes 5,000 AKT to qualify."])
    assert not _kind_missing(question, ["A provider bonds 2.5M AKT in total."])
    assert not _kind_missing("how much money did the pilot ask for?", ["The pilot asked for $150,000 of AKT."])
    assert not _kind_missing("how many RENDER tokens did the grant pay?", ["The grant paid 50K RENDER tokens."])
    assert not _kind_missing("how many GPUs does a provider need?", ["Providers need 8 GPUs."])  # not an amount


def test_a_where_is_it_incorporated_question_needs_a_best_sentence_naming_a_place():
    question = "which country is the Render Network Foundation legally incorporated in?"
    foundation = "The Render Foundation offers grants and resources for projects that grow the network."
    assert _kind_missing(question, [foundation])
    assert _kind_missing("where is the Render Network Foundation based?", [foundation])
    assert not _kind_missing(question, ["The Render Network Foundation is a Cayman Islands foundation company."])
    assert not _kind_missing("who runs the Render Network Foundation?", [foundation])


def test_a_page_in_both_rankings_is_judged_on_the_passages_the_fused_ranking_kept_of_it():
    """RNP-021 tops both rankings, but only the fused ranking kept its chunk naming 'M3 Max' (BM25 alone
    found it): the dense view judges RNP-021 on that chunk too, instead of finding the rare words missing."""
    from knowledge.answer import TermStats, compose
    from knowledge.embed import HashEmbedder
    from knowledge.retrieve import DocumentHit, Passage, Retrieval

    question = "can I hook my M3 Max macbook up to the enterprise compute program from RNP-021?"

    def page(texts: list[str]) -> DocumentHit:
        passages = [Passage(chunk_id=21 * 100 + i, document_id=21, key="RNP-021.md", protocol="render", title="RNP-021",
                            section="", text=t, url="", date="", position=i, cosine=0.45, score=1.0) for i, t in
                    enumerate(texts)]
        return DocumentHit(21, "RNP-021.md", "render", "RNP-021", "", "", 1.0, passages)

    general = "RNP-021 adds enterprise-grade GPUs such as the H100 to the Render compute network."
    fused = page([general, "Apple hardware (e.g., M4 Max, M3 Max) is not included at this time; no macbook yet."])
    dense = page([general])
    terms = TermStats(df={"hook": 19, "m3": 1, "max": 144, "macbook": 1, "enterprise": 65, "compute": 585,
                          "program": 54, "rnp-021": 50}, chunks=8000)
    embedder = HashEmbedder()
    retrieval = Retrieval(question=question, mode="hybrid", terms=[], protocols=["render"], documents=[fused],
                          query_vector=embedder.encode([question])[0], top_cosine=0.45, agreement=1.0,
                          dense_documents=[dense])
    both = compose(question, retrieval, embedder, terms, threshold=0.25)
    alone = compose(question, replace(retrieval, dense_documents=[]), embedder, terms, threshold=0.25)
    assert both.confidence == alone.confidence
    assert both.evidence.features["dense_view_confidence"] == round(alone.confidence, 4)


def test_a_near_copy_of_a_chosen_sentence_is_left_out_for_one_that_adds_something():
    """A page and its copy say 'your container will get stuck in ContainerCreating' in two wordings; the
    second copy would only take room from the sentence giving the cause."""
    first = cand("If you are using a newer systemd then your container will get stuck in ContainerCreating "
                 "state on your provider with gVisor enabled.", 0, 0, 0, 0.70)
    copy = cand("Skip if you are not using gVisor: if you are using a newer systemd version, your container will "
                "get stuck in ContainerCreating state on your provider with gVisor enabled.", 1, 0, 0, 0.69)
    cause = cand("The new systemd switched to the unified cgroup hierarchy (cgroup v2), not supported by gVisor.",
                 2, 0, 0, 0.60)
    chosen = [c.text for c in _select([first, copy, cause])]
    assert first.text in chosen and cause.text in chosen and copy.text not in chosen
    # short lines (list items, code) repeat by design and are never taken for copies
    items = [cand("Default: false", 0, 0, i, 0.7 - 0.01 * i) for i in range(2)] + [cand("Type: Boolean", 0, 1, 0, 0.6)]
    items[1].doc_rank = 1
    assert len(_select(items)) == 3


def test_sn9_is_the_pages_subnet_9_not_an_unknown_identifier():
    from knowledge.answer import Evidence, TermStats, _fill_evidence, _series_numbers

    assert _series_numbers("the pretrain subnet (SN9)") == {"subnet9"} == _series_numbers("Subnet 9 > Name")
    page = _doc(1, "subnet-9.md", "Subnet 9 rewards miners for pretrained models scored on Falcon Refined Web.", 0.6)
    terms = TermStats(df={"dataset": 23, "pretrain": 7, "subnet": 989, "sn9": 0, "score": 68, "models": 432},
                      chunks=8000)
    ev = Evidence()
    _fill_evidence(ev, "what dataset does the pretrain subnet (SN9) score models on?", [page], 0.6, [], [], terms)
    assert ev.unknown_ids == 0
    other = Evidence()
    _fill_evidence(other, "what dataset does the pretrain subnet (SN19) score models on?", [page], 0.6, [], [], terms)
    assert other.unknown_ids == 1
    # a netuid is the subnet's number: "netuid 9" is the page's "Subnet 9" too
    assert _series_numbers("what is netuid 9 for?") == {"subnet9"}
    by_netuid = Evidence()
    _fill_evidence(by_netuid, "what dataset does netuid 9 score models on?", [page], 0.6, [], [], terms)
    assert by_netuid.unknown_ids == 0


def test_the_dense_view_counts_an_identifier_as_held_when_the_first_fused_page_names_it():
    """Embeddings do not match 'RNP-021'; BM25 does, and puts RNP-021 first. The dense view's own pages
    (RNP-019, RNP-002) do not name it, which is no sign that the knowledge base lacks the answer. When the
    page naming it is only third, under pages closer to the question, the dense view still counts it."""
    from knowledge.answer import TermStats, compose
    from knowledge.embed import HashEmbedder
    from knowledge.retrieve import Retrieval

    question = "for enterprise multi-node clusters under RNP-021, what interconnects are they expecting?"
    rnp21 = _doc(21, "RNP-021.md", "RNP-021 multi-node enterprise clusters use Infiniband or Infinity Fabric "
                 "interconnects.", 0.56)
    rnp19 = _doc(19, "RNP-019.md", "Compute nodes for enterprise clusters are selected by utilization.", 0.57)
    rnp2 = _doc(2, "RNP-002.md", "Multi-node rendering clusters expand the network.", 0.55)
    terms = TermStats(df={"enterprise": 65, "multi-node": 9, "clusters": 279, "rnp-021": 50, "interconnects": 7,
                          "expecting": 270}, chunks=8000)
    embedder = HashEmbedder()

    def confidence(fused: list, dense: list) -> float:
        retrieval = Retrieval(question=question, mode="hybrid", terms=[], protocols=["render"], documents=fused,
                              query_vector=embedder.encode([question])[0], top_cosine=0.56, agreement=0.3,
                              dense_documents=dense)
        return compose(question, retrieval, embedder, terms, threshold=0.25).confidence

    first, third = [rnp21, rnp19, rnp2], [rnp19, rnp2, rnp21]
    assert confidence(first, []) == confidence(third, [])  # the fused view alone does not mind the order
    # the same dense view, forgiven the identifier only when RNP-021 is the first fused page
    assert confidence(first, [rnp19, rnp2]) > confidence(third, [rnp19, rnp2]) + 0.2


def test_an_answer_opens_with_the_title_of_its_first_page_when_its_sentences_never_state_it():
    """'Any plans to fail over to a backup provider?' is answered by AEP-52, whose body never says the
    proposal's name, 'Rollover Provider': the reader (and the question) wants that name."""
    from knowledge.answer import TermStats, compose
    from knowledge.embed import HashEmbedder
    from knowledge.retrieve import Retrieval

    question = "any plans to let my deployment fail over to a backup provider?"
    aep = _sectioned_doc(1, "Rollover Provider", [
        ("Rollover Provider > Motivation", "Being able to select one or more backup providers and have the "
         "deployment be redeployed to them when the main provider fails."),
    ])
    named = _sectioned_doc(2, "Backup providers", [
        ("Backup providers", "Backup providers take over a deployment when the main provider fails."),
    ])
    embedder = HashEmbedder()
    terms = TermStats(df={"deployment": 300, "backup": 20, "provider": 500, "fail": 40}, chunks=8000)

    def answer(documents):
        retrieval = Retrieval(question=question, mode="hybrid", terms=["deployment", "backup", "provider"],
                              protocols=["akash"], documents=documents,
                              query_vector=embedder.encode([question])[0], top_cosine=0.7, agreement=0.5)
        return compose(question, retrieval, embedder, terms, threshold=0.0).text

    assert answer([aep]).startswith("From \u201cRollover Provider\u201d: Being able to select")
    assert answer([aep]).endswith("[1]")
    # a page whose sentences already say its title gets no lead
    assert answer([named]).startswith("Backup providers take over")


def test_a_sentence_scores_the_same_in_a_pages_first_or_later_passage():
    """The answer often sits in a page's later passage, under one that restates the question ("Currently,
    workloads can only talk over public IPs" above "this AEP introduces an Akash Virtual Private Network"):
    the passages' fused order says which chunk matched, not which sentence answers."""
    from knowledge.answer import TermStats, _candidates, _score_candidates
    from knowledge.embed import HashEmbedder
    from knowledge.retrieve import Retrieval

    question = "is anything planned so deployments can talk over a private network?"
    restates = ("Aep > Motivation", "Currently deployments can talk to each other only over public addresses.")
    answers = ("Aep > Proposal", "This proposal introduces a virtual private network between providers.")
    embedder = HashEmbedder()
    terms = TermStats(df={"deployments": 200, "private": 30, "network": 900, "planned": 50}, chunks=8000)

    def score_of_answer(sections):
        doc = _sectioned_doc(1, "Aep", sections)
        retrieval = Retrieval(question=question, mode="hybrid", terms=[], protocols=[], documents=[doc],
                              query_vector=embedder.encode([question])[0], top_cosine=0.6, agreement=0.5)
        cands = _candidates([doc])
        _score_candidates(question, cands, retrieval, embedder, terms)
        return next(c.score for c in cands if c.text.startswith("This proposal"))

    assert score_of_answer([restates, answers]) == score_of_answer([answers, restates])


def test_a_short_sentence_ending_on_these_brings_the_sentence_it_refers_to():
    """'JWT eliminates the need for these.' says what it removes only through the sentence before it
    ('Accessing the API requires creating a certificate and working with mTLS.')."""
    from knowledge.answer import _candidates, _window

    doc = _doc(1, "aep-63.md", "Accessing the API requires creating a certificate and working with mTLS. "
               "JWT eliminates the need for these. Keys are created in the console.", 0.6)
    cands = _candidates([doc])
    jwt = next(i for i, c in enumerate(cands) if c.text.startswith("JWT"))
    assert cands[jwt].antecedent.startswith("Accessing the API")
    assert [c.text for c in _window(cands, jwt, budget=450)][0].startswith("Accessing the API")
    assert not next(c for c in cands if c.text.startswith("Keys")).antecedent  # a sentence of its own


def test_a_page_on_another_member_of_the_asked_series_scores_lower(monkeypatch):
    """'what is netuid 22 for? some social media thing?': the Subnet 3 page (it scrapes Reddit and Twitter)
    reads as much like an answer as the Subnet 22 page, but it is about another subnet; a page on another
    series (or on none) is not touched."""
    from knowledge import answer
    from knowledge.answer import TermStats, _candidates, _names_another_member, _score_candidates
    from knowledge.embed import HashEmbedder
    from knowledge.retrieve import Retrieval

    assert _names_another_member("Subnet 3", {"subnet22"})
    assert not _names_another_member("Subnet 22", {"subnet22"})
    assert not _names_another_member("Mainnet 10 upgrade", {"subnet22"})
    assert not _names_another_member("Glossary", {"subnet22"})
    question = "what is netuid 22 for? some social media thing?"
    line = "This subnet harvests social media data from Twitter for analysis."
    embedder = HashEmbedder()
    terms = TermStats(df={"netuid": 400, "social": 20, "media": 25, "thing": 90}, chunks=8000)

    def score_under(title):
        doc = _sectioned_doc(1, title, [(title, line)])
        retrieval = Retrieval(question=question, mode="hybrid", terms=[], protocols=[], documents=[doc],
                              query_vector=embedder.encode([question])[0], top_cosine=0.6, agreement=0.5)
        cands = _candidates([doc])
        _score_candidates(question, cands, retrieval, embedder, terms)
        return next(c.score for c in cands if c.text == line)

    penalised = {title: score_under(title) for title in ("Subnet 3", "Subnet 22", "Glossary")}
    monkeypatch.setattr(answer, "OTHER_MEMBER_PENALTY", 0.0)
    plain = {title: score_under(title) for title in penalised}
    assert penalised["Subnet 3"] == pytest.approx(plain["Subnet 3"] - 0.1)
    assert penalised["Subnet 22"] == pytest.approx(plain["Subnet 22"])
    assert penalised["Glossary"] == pytest.approx(plain["Glossary"])


def test_a_limit_or_frequency_question_needs_one_of_the_two_best_sentences_to_give_a_number():
    """'For the AEP-33 escrow alerts, what's the default threshold?': the page says a threshold can be set,
    never its default; a number further down (a milestone, another page's 30-minute TWAP) does not answer."""
    question = "for the AEP-33 escrow alerts in console, what's the default threshold?"
    page = ["Users can configure a low escrow balance alert for any deployment.",
            "The user can specify a threshold (<, =, >) that determines when the alert is triggered."]
    assert _kind_missing(question, page)
    assert _kind_missing(question, page + ["The price feed uses a 30-minute TWAP."])
    assert not _kind_missing(question, [page[0], "The default threshold is 3 days of funds left."])
    assert _kind_missing("how often will container usage get sampled?", page)
    assert not _kind_missing("how often will container usage get sampled?",
                             ["Usage is sampled every 15 seconds."])
    # the identifier's digits are not a figure, and a question asking for no limit is not checked
    assert _kind_missing("what is the limit of AEP-33 alerts?", ["AEP-33 adds alerts."])
    assert not _kind_missing("how do escrow alerts work?", page)


def test_a_block_number_named_in_a_question_is_not_asked_for():
    """'What do I pass instead of a block number?' wants a parameter (block_hash), not a block; 'what block
    height was the upgrade set for?' does want one."""
    parameter = ["AsyncSubtensor methods take a block_hash where Subtensor took a block."]
    assert not _kind_missing("porting to AsyncSubtensor, what do i pass instead of a block number?",
                             parameter)
    assert _kind_missing("what block height was the mainnet 10 upgrade set for?",
                         ["The upgrade was approved."])
    assert not _kind_missing("what block height was the mainnet 10 upgrade set for?",
                             ["The upgrade is set for block 15,414,427."])


def test_a_code_line_scores_lower_unless_the_question_asks_for_code(monkeypatch):
    """'what is the minimum stake to validate?': the line of a code sample that prints the stake requirement
    repeats the question's words, yet a chat reader wants the sentence that states it; a question asking for
    a command or a snippet still gets the code line at its full score."""
    from knowledge import answer
    from knowledge.answer import TermStats, _candidates, _score_candidates
    from knowledge.embed import HashEmbedder
    from knowledge.retrieve import Retrieval
    from knowledge.text import sentences_marking_code

    text = ("You need a minimum stake of 1,000 to validate.\n\n```python\n"
            "print(f'minimum stake to validate: {min(top_64_stake)}')\n```\n")
    assert sentences_marking_code(text) == [("You need a minimum stake of 1,000 to validate.", False),
                                            ("print(f'minimum stake to validate: {min(top_64_stake)}')", True)]
    embedder = HashEmbedder()
    terms = TermStats(df={"minimum": 80, "stake": 400, "validate": 90, "code": 60, "snippet": 5}, chunks=8000)

    def code_score(question):
        doc = _doc(1, "validators.md", text, 0.6)
        retrieval = Retrieval(question=question, mode="hybrid", terms=[], protocols=[], documents=[doc],
                              query_vector=embedder.encode([question])[0], top_cosine=0.6, agreement=0.5)
        cands = _candidates([doc])
        assert [c.code for c in cands] == [False, True]
        _score_candidates(question, cands, retrieval, embedder, terms)
        return cands[1].score

    prose_question = "what is the minimum stake to validate?"
    code_question = "is there a code snippet that prints the minimum stake to validate?"
    penalty = answer.CODE_PENALTY
    assert penalty > 0
    penalised = {q: code_score(q) for q in (prose_question, code_question)}
    monkeypatch.setattr(answer, "CODE_PENALTY", 0.0)
    assert penalised[prose_question] == pytest.approx(code_score(prose_question) - penalty)
    assert penalised[code_question] == pytest.approx(code_score(code_question))
