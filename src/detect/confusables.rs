//! The look-alike table of the normaliser: letters of other scripts (Cyrillic, Greek, Armenian,
//! Cherokee, Coptic, Lisu) and Latin small capitals / IPA letters that render like a basic Latin
//! letter, each mapped to the lower-case ASCII letter it imitates.
//!
//! Choices, and why:
//! - The key is the character as it comes out of NFKC *before* lower-casing. Case matters for
//!   shape: Greek capital eta `Η` looks like `H` but its small form `η` looks like `n`; capital
//!   upsilon `Υ` is a `Y`, small `υ` a `u`; capital nu `Ν` an `N`, small `ν` a `v`. Lower-casing
//!   first would lose that, so the table lists both forms where both imitate a Latin letter and
//!   only the one that does otherwise (`Β` is a `B`, `β` is not; `п` is an `n`, `П` is not).
//!   A character that is not in the table is lower-cased and *not* looked up again, so `Σ`
//!   does not become `o` through `σ`, nor `Γ` `y` through `γ`.
//! - Both the genuine lower-case look-alikes (`а е о р с у х і ј ѕ ԁ һ ӏ ԛ ԝ`) and the lower-case
//!   forms of upper-case look-alikes (`в к м н т`, since `ВКМНТ` spell Latin capitals and the
//!   scanning copy is lower-case) are folded. Over-folding genuine Russian or Greek text is
//!   harmless: this is only the copy the detectors scan, and the counter only counts folds in
//!   mixed-script words (see `normalize`).
//! - Letters that only look like a Latin letter with a diacritic or stroke (`ћ`, `ғ`, `θ`) are
//!   not folded: they do not spell a keyword. `ε` (looks like `ɛ`), `μ`, `β`, `ь`, `ц`, `π` are
//!   left out as too distant from their Latin counterparts in common fonts.
//! - Dotless vertical strokes are ambiguous between `I` and `l`: capital forms (Greek `Ι`,
//!   Cyrillic `І` and palochka `Ӏ`, Coptic `Ⲓ`) fold to `i` because they imitate a capital I,
//!   caseless or small ones (`ǀ ӏ ꓲ Ɩ`) to `l`.
//! - Characters NFKC already maps to ASCII (fullwidth, mathematical alphanumerics, `ſ`, `ϰ`,
//!   Roman numerals) are not listed: NFKC runs first. The lunate sigma `ϲ Ϲ` would become `σ Σ`
//!   under NFKC, so the normaliser pre-maps it before NFKC (see `normalize`).
//! - Cherokee capitals that imitate Latin capitals are listed with their Unicode 8 small forms
//!   (which look like small capitals of the same letter).
//!
//! Built from the single-letter Latin targets of Unicode's confusables data for those scripts,
//! checked by hand. Sorted by code point; looked up by binary search.

/// `(look-alike, ASCII lower-case letter)`, sorted by the look-alike.
pub static CONFUSABLES: [(char, u8); 247] = TABLE;

const TABLE: [(char, u8); 247] = [
    ('\u{0131}', b'i'), // ı latin small letter dotless i
    ('\u{0138}', b'k'), // ĸ latin small letter kra
    ('\u{0184}', b'b'), // Ƅ latin capital letter tone six
    ('\u{018D}', b'g'), // ƍ latin small letter turned delta
    ('\u{0196}', b'l'), // Ɩ latin capital letter iota
    ('\u{01A6}', b'r'), // Ʀ latin letter yr
    ('\u{01BD}', b's'), // ƽ latin small letter tone five
    ('\u{01C0}', b'l'), // ǀ latin letter dental click
    ('\u{0237}', b'j'), // ȷ latin small letter dotless j
    ('\u{0251}', b'a'), // ɑ latin small letter alpha
    ('\u{0261}', b'g'), // ɡ latin small letter script g
    ('\u{0262}', b'g'), // ɢ latin letter small capital g
    ('\u{0263}', b'y'), // ɣ latin small letter gamma
    ('\u{0269}', b'i'), // ɩ latin small letter iota
    ('\u{026A}', b'i'), // ɪ latin letter small capital i
    ('\u{026F}', b'w'), // ɯ latin small letter turned m
    ('\u{0274}', b'n'), // ɴ latin letter small capital n
    ('\u{0280}', b'r'), // ʀ latin letter small capital r
    ('\u{028B}', b'u'), // ʋ latin small letter v with hook
    ('\u{028F}', b'y'), // ʏ latin letter small capital y
    ('\u{0299}', b'b'), // ʙ latin letter small capital b
    ('\u{029C}', b'h'), // ʜ latin letter small capital h
    ('\u{029F}', b'l'), // ʟ latin letter small capital l
    ('\u{037F}', b'j'), // Ϳ greek capital letter yot
    ('\u{0391}', b'a'), // Α greek capital letter alpha
    ('\u{0392}', b'b'), // Β greek capital letter beta
    ('\u{0395}', b'e'), // Ε greek capital letter epsilon
    ('\u{0396}', b'z'), // Ζ greek capital letter zeta
    ('\u{0397}', b'h'), // Η greek capital letter eta
    ('\u{0399}', b'i'), // Ι greek capital letter iota
    ('\u{039A}', b'k'), // Κ greek capital letter kappa
    ('\u{039C}', b'm'), // Μ greek capital letter mu
    ('\u{039D}', b'n'), // Ν greek capital letter nu
    ('\u{039F}', b'o'), // Ο greek capital letter omicron
    ('\u{03A1}', b'p'), // Ρ greek capital letter rho
    ('\u{03A4}', b't'), // Τ greek capital letter tau
    ('\u{03A5}', b'y'), // Υ greek capital letter upsilon
    ('\u{03A7}', b'x'), // Χ greek capital letter chi
    ('\u{03B1}', b'a'), // α greek small letter alpha
    ('\u{03B3}', b'y'), // γ greek small letter gamma
    ('\u{03B7}', b'n'), // η greek small letter eta
    ('\u{03B9}', b'i'), // ι greek small letter iota
    ('\u{03BA}', b'k'), // κ greek small letter kappa
    ('\u{03BD}', b'v'), // ν greek small letter nu
    ('\u{03BF}', b'o'), // ο greek small letter omicron
    ('\u{03C1}', b'p'), // ρ greek small letter rho
    ('\u{03C3}', b'o'), // σ greek small letter sigma
    ('\u{03C4}', b't'), // τ greek small letter tau
    ('\u{03C5}', b'u'), // υ greek small letter upsilon
    ('\u{03C7}', b'x'), // χ greek small letter chi
    ('\u{03C9}', b'w'), // ω greek small letter omega
    ('\u{03DC}', b'f'), // Ϝ greek letter digamma
    ('\u{03F3}', b'j'), // ϳ greek letter yot
    ('\u{03FA}', b'm'), // Ϻ greek capital letter san
    ('\u{0405}', b's'), // Ѕ cyrillic capital letter dze
    ('\u{0406}', b'i'), // І cyrillic capital letter byelorussian-ukrainian i
    ('\u{0408}', b'j'), // Ј cyrillic capital letter je
    ('\u{0410}', b'a'), // А cyrillic capital letter a
    ('\u{0412}', b'b'), // В cyrillic capital letter ve
    ('\u{0415}', b'e'), // Е cyrillic capital letter ie
    ('\u{041A}', b'k'), // К cyrillic capital letter ka
    ('\u{041C}', b'm'), // М cyrillic capital letter em
    ('\u{041D}', b'h'), // Н cyrillic capital letter en
    ('\u{041E}', b'o'), // О cyrillic capital letter o
    ('\u{0420}', b'p'), // Р cyrillic capital letter er
    ('\u{0421}', b'c'), // С cyrillic capital letter es
    ('\u{0422}', b't'), // Т cyrillic capital letter te
    ('\u{0423}', b'y'), // У cyrillic capital letter u
    ('\u{0425}', b'x'), // Х cyrillic capital letter ha
    ('\u{042C}', b'b'), // Ь cyrillic capital letter soft sign
    ('\u{0430}', b'a'), // а cyrillic small letter a
    ('\u{0432}', b'b'), // в cyrillic small letter ve
    ('\u{0433}', b'r'), // г cyrillic small letter ghe
    ('\u{0435}', b'e'), // е cyrillic small letter ie
    ('\u{043A}', b'k'), // к cyrillic small letter ka
    ('\u{043C}', b'm'), // м cyrillic small letter em
    ('\u{043D}', b'h'), // н cyrillic small letter en
    ('\u{043E}', b'o'), // о cyrillic small letter o
    ('\u{043F}', b'n'), // п cyrillic small letter pe
    ('\u{0440}', b'p'), // р cyrillic small letter er
    ('\u{0441}', b'c'), // с cyrillic small letter es
    ('\u{0442}', b't'), // т cyrillic small letter te
    ('\u{0443}', b'y'), // у cyrillic small letter u
    ('\u{0445}', b'x'), // х cyrillic small letter ha
    ('\u{0455}', b's'), // ѕ cyrillic small letter dze
    ('\u{0456}', b'i'), // і cyrillic small letter byelorussian-ukrainian i
    ('\u{0458}', b'j'), // ј cyrillic small letter je
    ('\u{0474}', b'v'), // Ѵ cyrillic capital letter izhitsa
    ('\u{0475}', b'v'), // ѵ cyrillic small letter izhitsa
    ('\u{04AE}', b'y'), // Ү cyrillic capital letter straight u
    ('\u{04AF}', b'y'), // ү cyrillic small letter straight u
    ('\u{04BA}', b'h'), // Һ cyrillic capital letter shha
    ('\u{04BB}', b'h'), // һ cyrillic small letter shha
    ('\u{04BD}', b'e'), // ҽ cyrillic small letter abkhasian che
    ('\u{04C0}', b'i'), // Ӏ cyrillic letter palochka
    ('\u{04CF}', b'l'), // ӏ cyrillic small letter palochka
    ('\u{0500}', b'd'), // Ԁ cyrillic capital letter komi de
    ('\u{0501}', b'd'), // ԁ cyrillic small letter komi de
    ('\u{050C}', b'g'), // Ԍ cyrillic capital letter komi sje
    ('\u{050D}', b'g'), // ԍ cyrillic small letter komi sje
    ('\u{051A}', b'q'), // Ԛ cyrillic capital letter qa
    ('\u{051B}', b'q'), // ԛ cyrillic small letter qa
    ('\u{051C}', b'w'), // Ԝ cyrillic capital letter we
    ('\u{051D}', b'w'), // ԝ cyrillic small letter we
    ('\u{054D}', b'u'), // Ս armenian capital letter seh
    ('\u{054F}', b's'), // Տ armenian capital letter tiwn
    ('\u{0555}', b'o'), // Օ armenian capital letter oh
    ('\u{0561}', b'w'), // ա armenian small letter ayb
    ('\u{0563}', b'q'), // գ armenian small letter gim
    ('\u{0566}', b'q'), // զ armenian small letter za
    ('\u{0570}', b'h'), // հ armenian small letter ho
    ('\u{0575}', b'j'), // յ armenian small letter yi
    ('\u{0578}', b'n'), // ո armenian small letter vo
    ('\u{057C}', b'n'), // ռ armenian small letter ra
    ('\u{057D}', b'u'), // ս armenian small letter seh
    ('\u{0581}', b'g'), // ց armenian small letter co
    ('\u{0584}', b'f'), // ք armenian small letter keh
    ('\u{0585}', b'o'), // օ armenian small letter oh
    ('\u{13A0}', b'd'), // Ꭰ cherokee letter a
    ('\u{13A1}', b'r'), // Ꭱ cherokee letter e
    ('\u{13A2}', b't'), // Ꭲ cherokee letter i
    ('\u{13A5}', b'i'), // Ꭵ cherokee letter v
    ('\u{13A9}', b'y'), // Ꭹ cherokee letter gi
    ('\u{13AA}', b'a'), // Ꭺ cherokee letter go
    ('\u{13AB}', b'j'), // Ꭻ cherokee letter gu
    ('\u{13AC}', b'e'), // Ꭼ cherokee letter gv
    ('\u{13B3}', b'w'), // Ꮃ cherokee letter la
    ('\u{13B7}', b'm'), // Ꮇ cherokee letter lu
    ('\u{13BB}', b'h'), // Ꮋ cherokee letter mi
    ('\u{13BD}', b'y'), // Ꮍ cherokee letter mu
    ('\u{13C0}', b'g'), // Ꮐ cherokee letter nah
    ('\u{13C2}', b'h'), // Ꮒ cherokee letter ni
    ('\u{13C3}', b'z'), // Ꮓ cherokee letter no
    ('\u{13CF}', b'b'), // Ꮟ cherokee letter si
    ('\u{13D2}', b'r'), // Ꮢ cherokee letter sv
    ('\u{13D4}', b'w'), // Ꮤ cherokee letter ta
    ('\u{13D5}', b's'), // Ꮥ cherokee letter de
    ('\u{13D9}', b'v'), // Ꮩ cherokee letter do
    ('\u{13DA}', b's'), // Ꮪ cherokee letter du
    ('\u{13DE}', b'l'), // Ꮮ cherokee letter tle
    ('\u{13DF}', b'c'), // Ꮯ cherokee letter tli
    ('\u{13E2}', b'p'), // Ꮲ cherokee letter tlv
    ('\u{13E6}', b'k'), // Ꮶ cherokee letter tso
    ('\u{13E7}', b'd'), // Ꮷ cherokee letter tsu
    ('\u{13F3}', b'g'), // Ᏻ cherokee letter yu
    ('\u{13F4}', b'b'), // Ᏼ cherokee letter yv
    ('\u{13FB}', b'g'), // ᏻ cherokee small letter yu
    ('\u{13FC}', b'b'), // ᏼ cherokee small letter yv
    ('\u{1D00}', b'a'), // ᴀ latin letter small capital a
    ('\u{1D04}', b'c'), // ᴄ latin letter small capital c
    ('\u{1D07}', b'e'), // ᴇ latin letter small capital e
    ('\u{1D0A}', b'j'), // ᴊ latin letter small capital j
    ('\u{1D0B}', b'k'), // ᴋ latin letter small capital k
    ('\u{1D0D}', b'm'), // ᴍ latin letter small capital m
    ('\u{1D0F}', b'o'), // ᴏ latin letter small capital o
    ('\u{1D11}', b'o'), // ᴑ latin small letter sideways o
    ('\u{1D18}', b'p'), // ᴘ latin letter small capital p
    ('\u{1D1B}', b't'), // ᴛ latin letter small capital t
    ('\u{1D1C}', b'u'), // ᴜ latin letter small capital u
    ('\u{1D20}', b'v'), // ᴠ latin letter small capital v
    ('\u{1D21}', b'w'), // ᴡ latin letter small capital w
    ('\u{1D22}', b'z'), // ᴢ latin letter small capital z
    ('\u{1D26}', b'r'), // ᴦ greek letter small capital gamma
    ('\u{2C85}', b'r'), // ⲅ coptic small letter gamma
    ('\u{2C8E}', b'h'), // Ⲏ coptic capital letter hate
    ('\u{2C92}', b'i'), // Ⲓ coptic capital letter iauda
    ('\u{2C94}', b'k'), // Ⲕ coptic capital letter kapa
    ('\u{2C95}', b'k'), // ⲕ coptic small letter kapa
    ('\u{2C98}', b'm'), // Ⲙ coptic capital letter mi
    ('\u{2C9A}', b'n'), // Ⲛ coptic capital letter ni
    ('\u{2C9E}', b'o'), // Ⲟ coptic capital letter o
    ('\u{2C9F}', b'o'), // ⲟ coptic small letter o
    ('\u{2CA2}', b'p'), // Ⲣ coptic capital letter ro
    ('\u{2CA3}', b'p'), // ⲣ coptic small letter ro
    ('\u{2CA4}', b'c'), // Ⲥ coptic capital letter sima
    ('\u{2CA5}', b'c'), // ⲥ coptic small letter sima
    ('\u{2CA6}', b't'), // Ⲧ coptic capital letter tau
    ('\u{2CA8}', b'y'), // Ⲩ coptic capital letter ua
    ('\u{2CAC}', b'x'), // Ⲭ coptic capital letter khi
    ('\u{2CAD}', b'x'), // ⲭ coptic small letter khi
    ('\u{2CD0}', b'l'), // Ⳑ coptic capital letter l-shaped ha
    ('\u{A4D0}', b'b'), // ꓐ lisu letter ba
    ('\u{A4D1}', b'p'), // ꓑ lisu letter pa
    ('\u{A4D2}', b'd'), // ꓒ lisu letter pha
    ('\u{A4D3}', b'd'), // ꓓ lisu letter da
    ('\u{A4D4}', b't'), // ꓔ lisu letter ta
    ('\u{A4D6}', b'g'), // ꓖ lisu letter ga
    ('\u{A4D7}', b'k'), // ꓗ lisu letter ka
    ('\u{A4D9}', b'j'), // ꓙ lisu letter ja
    ('\u{A4DA}', b'c'), // ꓚ lisu letter ca
    ('\u{A4DC}', b'z'), // ꓜ lisu letter dza
    ('\u{A4DD}', b'f'), // ꓝ lisu letter tsa
    ('\u{A4DF}', b'm'), // ꓟ lisu letter ma
    ('\u{A4E0}', b'n'), // ꓠ lisu letter na
    ('\u{A4E1}', b'l'), // ꓡ lisu letter la
    ('\u{A4E2}', b's'), // ꓢ lisu letter sa
    ('\u{A4E3}', b'r'), // ꓣ lisu letter zha
    ('\u{A4E6}', b'v'), // ꓦ lisu letter ha
    ('\u{A4E7}', b'h'), // ꓧ lisu letter xa
    ('\u{A4EA}', b'w'), // ꓪ lisu letter wa
    ('\u{A4EB}', b'x'), // ꓫ lisu letter sha
    ('\u{A4EC}', b'y'), // ꓬ lisu letter ya
    ('\u{A4EE}', b'a'), // ꓮ lisu letter a
    ('\u{A4F0}', b'e'), // ꓰ lisu letter e
    ('\u{A4F2}', b'l'), // ꓲ lisu letter i
    ('\u{A4F3}', b'o'), // ꓳ lisu letter o
    ('\u{A4F4}', b'u'), // ꓴ lisu letter u
    ('\u{A646}', b'i'), // Ꙇ cyrillic capital letter iota
    ('\u{A647}', b'i'), // ꙇ cyrillic small letter iota
    ('\u{A731}', b's'), // ꜱ latin letter small capital s
    ('\u{A798}', b'f'), // Ꞙ latin capital letter f with stroke
    ('\u{A799}', b'f'), // ꞙ latin small letter f with stroke
    ('\u{A79F}', b'u'), // ꞟ latin small letter volapuk ue
    ('\u{A7AF}', b'q'), // ꞯ latin letter small capital q
    ('\u{A7B2}', b'j'), // Ʝ latin capital letter j with crossed-tail
    ('\u{A7B4}', b'b'), // Ꞵ latin capital letter beta
    ('\u{AB32}', b'e'), // ꬲ latin small letter blackletter e
    ('\u{AB35}', b'f'), // ꬵ latin small letter lenis f
    ('\u{AB3D}', b'o'), // ꬽ latin small letter blackletter o
    ('\u{AB47}', b'r'), // ꭇ latin small letter r without handle
    ('\u{AB48}', b'r'), // ꭈ latin small letter double r
    ('\u{AB70}', b'd'), // ꭰ cherokee small letter a
    ('\u{AB71}', b'r'), // ꭱ cherokee small letter e
    ('\u{AB72}', b't'), // ꭲ cherokee small letter i
    ('\u{AB75}', b'i'), // ꭵ cherokee small letter v
    ('\u{AB79}', b'y'), // ꭹ cherokee small letter gi
    ('\u{AB7A}', b'a'), // ꭺ cherokee small letter go
    ('\u{AB7B}', b'j'), // ꭻ cherokee small letter gu
    ('\u{AB7C}', b'e'), // ꭼ cherokee small letter gv
    ('\u{AB83}', b'w'), // ꮃ cherokee small letter la
    ('\u{AB87}', b'm'), // ꮇ cherokee small letter lu
    ('\u{AB8B}', b'h'), // ꮋ cherokee small letter mi
    ('\u{AB8D}', b'y'), // ꮍ cherokee small letter mu
    ('\u{AB90}', b'g'), // ꮐ cherokee small letter nah
    ('\u{AB92}', b'h'), // ꮒ cherokee small letter ni
    ('\u{AB93}', b'z'), // ꮓ cherokee small letter no
    ('\u{AB9F}', b'b'), // ꮟ cherokee small letter si
    ('\u{ABA2}', b'r'), // ꮢ cherokee small letter sv
    ('\u{ABA4}', b'w'), // ꮤ cherokee small letter ta
    ('\u{ABA5}', b's'), // ꮥ cherokee small letter de
    ('\u{ABA9}', b'v'), // ꮩ cherokee small letter do
    ('\u{ABAA}', b's'), // ꮪ cherokee small letter du
    ('\u{ABAE}', b'l'), // ꮮ cherokee small letter tle
    ('\u{ABAF}', b'c'), // ꮯ cherokee small letter tli
    ('\u{ABB2}', b'p'), // ꮲ cherokee small letter tlv
    ('\u{ABB6}', b'k'), // ꮶ cherokee small letter tso
    ('\u{ABB7}', b'd'), // ꮷ cherokee small letter tsu
];

/// The lowest and highest look-alike: two compares keep ASCII, Latin-1, CJK, Hangul and emoji
/// away from any lookup.
pub const FIRST: u32 = 0x131;
pub const LAST: u32 = 0xABB7;

/// Where the sparse part of the table starts: [`DENSE`] covers `FIRST..DENSE_END` (Latin
/// extensions, IPA, Greek, Cyrillic, Armenian: the scripts of running text that is not Latin,
/// where a binary search per character was most of the cost of normalising it), and nothing
/// lies between `DENSE_END` and the first Cherokee letter (U+13A0), so Hebrew, Arabic and the
/// Indic scripts cost one compare.
const DENSE_END: u32 = 0x590;
const SPARSE_START: u32 = 0x13A0;

/// `DENSE[c - FIRST]` is the letter `c` imitates, or 0.
static DENSE: [u8; (DENSE_END - FIRST) as usize] = {
    let mut t = [0u8; (DENSE_END - FIRST) as usize];
    let mut i = 0;
    while i < TABLE.len() {
        let c = TABLE[i].0 as u32;
        if c < DENSE_END {
            t[(c - FIRST) as usize] = TABLE[i].1;
        }
        i += 1;
    }
    t
};

/// The entries past the dense part.
static SPARSE: &[(char, u8)] = {
    let mut i = 0;
    while (TABLE[i].0 as u32) < DENSE_END {
        i += 1;
    }
    TABLE.split_at(i).1
};

/// The Latin letter `c` imitates, if any.
#[inline]
pub fn fold(c: char) -> Option<char> {
    let u = c as u32;
    if u < DENSE_END {
        let l = *DENSE.get(u.checked_sub(FIRST)? as usize)?;
        return (l != 0).then_some(char::from(l));
    }
    if !(SPARSE_START..=LAST).contains(&u) {
        return None;
    }
    let i = SPARSE.binary_search_by_key(&c, |&(k, _)| k).ok()?;
    SPARSE.get(i).map(|&(_, l)| char::from(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_maps_to_ascii_lower_letters() {
        assert_eq!(CONFUSABLES.first().map(|e| e.0 as u32), Some(FIRST));
        assert_eq!(CONFUSABLES.last().map(|e| e.0 as u32), Some(LAST));
        for w in CONFUSABLES.windows(2) {
            assert!(w[0].0 < w[1].0, "{:?} !< {:?}", w[0].0, w[1].0);
        }
        for &(c, l) in CONFUSABLES.iter() {
            assert!(!c.is_ascii());
            assert!(l.is_ascii_lowercase(), "{c:?}");
            assert!(c.is_alphabetic(), "{c:?}");
        }
    }

    #[test]
    fn fold_agrees_with_the_table_everywhere() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let want = CONFUSABLES
                .iter()
                .find(|e| e.0 == c)
                .map(|e| char::from(e.1));
            assert_eq!(fold(c), want, "{:04X}", c as u32);
        }
        assert!(CONFUSABLES
            .iter()
            .all(|e| !(DENSE_END..SPARSE_START).contains(&(e.0 as u32))));
    }

    #[test]
    fn keys_survive_nfkc() {
        // A key NFKC rewrites could never be looked up (the table runs after NFKC).
        use unicode_normalization::UnicodeNormalization;
        for &(c, _) in CONFUSABLES.iter() {
            let n: String = std::iter::once(c).nfkc().collect();
            assert_eq!(n, c.to_string(), "{c:?} is changed by NFKC");
        }
    }

    #[test]
    fn case_decides_shape() {
        assert_eq!(fold('Η'), Some('h'));
        assert_eq!(fold('η'), Some('n'));
        assert_eq!(fold('Υ'), Some('y'));
        assert_eq!(fold('υ'), Some('u'));
        assert_eq!(fold('β'), None);
        assert_eq!(fold('а'), Some('a'));
        assert_eq!(fold('é'), None);
        assert_eq!(fold('a'), None);
    }
}
