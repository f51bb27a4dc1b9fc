/**
 * The embedded default corpus: short encyclopedic articles and stories about an invented country,
 * generated here from seeded random choices (nothing is copied from any dataset).
 *
 * It is built to be learnable in minutes by a small GPT-2: one fixed "world" (towns, provinces,
 * rivers, people, animals, each with consistent attributes: a town always lies on the same river and
 * trades the same goods, a person's age at death is always death year − birth year, pronouns agree),
 * described by a few hundred words of vocabulary in varied sentence templates. The world is shared by
 * all splits; each split draws its articles with its own seed, so the splits state the same facts in
 * different articles and orders (held-out perplexity measures learnt structure, not memorised text).
 *
 * @module
 */
import { Rng } from "../rng.ts";

/** The dataset name that `loadText` maps to this corpus. */
export const DEFAULT_CORPUS_NAME = "embedded";

/** Target sizes in characters (each split stops at the first article boundary past its target). */
export const DEFAULT_CORPUS_CHARS = { train: 450_000, valid: 40_000, test: 40_000 } as const;

const WORLD_SEED = 1931;
const SPLIT_SEEDS = { train: 101, valid: 202, test: 303 } as const;

let memo: { train: string; valid: string; test: string } | null = null;

/** The corpus splits; deterministic (same strings on every run and machine) and built once per process. */
export function defaultCorpus(): { train: string; valid: string; test: string } {
  memo ??= generateDefaultCorpus();
  return memo;
}

/** Generates the corpus afresh (about 20–50 ms); `defaultCorpus` is the memoised form. */
export function generateDefaultCorpus(): { train: string; valid: string; test: string } {
  const world = buildWorld(new Rng(WORLD_SEED));
  return {
    train: writeSplit(world, new Rng(SPLIT_SEEDS.train), DEFAULT_CORPUS_CHARS.train),
    valid: writeSplit(world, new Rng(SPLIT_SEEDS.valid), DEFAULT_CORPUS_CHARS.valid),
    test: writeSplit(world, new Rng(SPLIT_SEEDS.test), DEFAULT_CORPUS_CHARS.test),
  };
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

const DIRECTIONS = ["north", "south", "east", "west", "centre"];
const SEAS = ["Grey Sea", "Amber Sea"];
const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const TRADES = [
  { goods: "wool", worker: "weaver" },
  { goods: "salt", worker: "salt maker" },
  { goods: "timber", worker: "woodcutter" },
  { goods: "glass", worker: "glassmaker" },
  { goods: "copper", worker: "miner" },
  { goods: "wine", worker: "wine maker" },
  { goods: "paper", worker: "paper maker" },
  { goods: "cheese", worker: "cheese maker" },
  { goods: "fish", worker: "fisherman" },
  { goods: "iron", worker: "smith" },
  { goods: "honey", worker: "beekeeper" },
  { goods: "linen", worker: "weaver" },
];
const LANDMARKS = [
  "the old stone bridge",
  "the round tower",
  "the church of Saint Alda",
  "the town hall",
  "the water mill",
  "the clock tower",
  "the castle on the hill",
  "the covered market",
  "the harbour wall",
  "the library",
];
const FEMALE = [
  "Mara",
  "Elin",
  "Ada",
  "Rosa",
  "Ida",
  "Lena",
  "Clara",
  "Nora",
  "Vera",
  "Alma",
  "Greta",
  "Hanna",
];
const MALE = [
  "Tomas",
  "Aron",
  "Peter",
  "Karl",
  "Oskar",
  "Emil",
  "Jonas",
  "Hugo",
  "Anton",
  "Felix",
  "Lukas",
  "Erik",
];
const JOBS = ["painter", "poet", "composer", "engineer", "naturalist", "mapmaker", "physician", "astronomer"];
const TITLE_ADJ = [
  "Quiet",
  "Silver",
  "Broken",
  "Golden",
  "Winter",
  "Northern",
  "Long",
  "Little",
  "Last",
  "Hidden",
];
const TITLE_NOUN = [
  "Harbour",
  "Garden",
  "Bridge",
  "River",
  "Lantern",
  "Orchard",
  "Road",
  "Bell",
  "Window",
  "Shore",
];
const ANIMALS = [
  { name: "heron", kind: "bird", cover: "feathers", diet: "fish and frogs" },
  { name: "owl", kind: "bird", cover: "feathers", diet: "mice and voles" },
  { name: "finch", kind: "bird", cover: "feathers", diet: "seeds" },
  { name: "fox", kind: "mammal", cover: "fur", diet: "rabbits and birds" },
  { name: "hare", kind: "mammal", cover: "fur", diet: "grass and leaves" },
  { name: "otter", kind: "mammal", cover: "fur", diet: "fish" },
  { name: "trout", kind: "fish", cover: "scales", diet: "insects" },
  { name: "carp", kind: "fish", cover: "scales", diet: "plants and snails" },
  { name: "lizard", kind: "reptile", cover: "scales", diet: "insects" },
  { name: "beetle", kind: "insect", cover: "wings", diet: "leaves" },
  { name: "moth", kind: "insect", cover: "wings", diet: "flowers" },
];
const HABITATS = [
  { adj: "marsh", place: "marshes" },
  { adj: "forest", place: "forests" },
  { adj: "river", place: "rivers" },
  { adj: "meadow", place: "meadows" },
  { adj: "hill", place: "hills" },
];
const COLOURS = ["red", "grey", "black", "white", "brown", "golden", "green", "blue"];
const WEATHER = ["cold", "wet", "warm", "windy", "dry", "bright"];
const SEASONS = ["spring", "summer", "autumn", "winter"];
const NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

// Name parts: invented names from syllables, so the corpus contains no real places or people.
const ONSETS = [
  "b",
  "br",
  "d",
  "dr",
  "f",
  "g",
  "gr",
  "h",
  "k",
  "l",
  "m",
  "n",
  "p",
  "r",
  "s",
  "st",
  "t",
  "th",
  "v",
  "w",
];
const VOWELS = ["a", "e", "i", "o", "u", "a", "e", "o", "ai", "ea"];
const CODAS = ["n", "r", "l", "s", "m", "rn", "nd", "ll", "st", ""];
const TOWN_ENDS = ["ford", "by", "ton", "wick", "mouth", "dale", "holm", "bridge", "stead", "field"];
const FAMILY_ENDS = ["er", "son", "en", "ing", "man", "holt", "berg", "well"];

// ---------------------------------------------------------------------------------------------
// The world

interface Province {
  name: string;
  direction: string;
}
interface River {
  name: string;
  province: Province;
  length: number;
  source: string;
  sea: string;
  towns: Town[];
}
interface Town {
  name: string;
  province: Province;
  river: River;
  population: number;
  founded: number;
  trade: (typeof TRADES)[number];
  landmark: string;
  market: string;
  people: Person[];
}
interface Person {
  first: string;
  last: string;
  female: boolean;
  born: number;
  died: number;
  town: Town;
  deathTown: Town;
  job: string;
  work: string;
  workYear: number;
  teacher: Person | null;
}
interface Species {
  name: string;
  animal: (typeof ANIMALS)[number];
  habitat: (typeof HABITATS)[number];
  colour: string;
  province: Province;
  size: number;
  describedBy: Person | null;
  describedYear: number;
}
interface World {
  provinces: Province[];
  rivers: River[];
  towns: Town[];
  people: Person[];
  species: Species[];
  /** The species each naturalist described first. */
  described: Map<Person, Species[]>;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

function syllable(rng: Rng): string {
  return pick(rng, ONSETS) + pick(rng, VOWELS) + pick(rng, CODAS);
}

/** Draws names until one is new, so every entity has a distinct name. */
function uniqueName(used: Set<string>, make: () => string): string {
  for (;;) {
    const name = make();
    if (!used.has(name) && name.length <= 12) {
      used.add(name);
      return name;
    }
  }
}

function buildWorld(rng: Rng): World {
  const used = new Set<string>();
  const provinces = DIRECTIONS.map((direction) => ({
    name: uniqueName(used, () => cap(syllable(rng) + pick(rng, ["land", "mark", "shire", "moor"]))),
    direction,
  }));
  const rivers: River[] = [];
  for (let i = 0; i < 8; i++) {
    rivers.push({
      name: uniqueName(used, () => cap(syllable(rng))),
      province: provinces[i % provinces.length],
      length: 40 + 5 * rng.int(50),
      source: `${uniqueName(used, () => cap(syllable(rng) + syllable(rng)))} ${
        pick(rng, ["Hills", "Mountains"])
      }`,
      sea: pick(rng, SEAS),
      towns: [],
    });
  }
  const towns: Town[] = [];
  for (let i = 0; i < 24; i++) {
    const river = rivers[i % rivers.length];
    const town: Town = {
      name: uniqueName(used, () => cap(syllable(rng) + pick(rng, TOWN_ENDS))),
      province: river.province,
      river,
      population: 100 * (12 + rng.int(900)),
      founded: 800 + rng.int(780), // before anyone in the corpus is born (1600 on)
      trade: pick(rng, TRADES),
      landmark: pick(rng, LANDMARKS),
      market: pick(rng, DAYS),
      people: [],
    };
    river.towns.push(town);
    towns.push(town);
  }
  const people: Person[] = [];
  for (let i = 0; i < 36; i++) {
    const female = rng.next() < 0.5;
    const born = 1600 + rng.int(280);
    const died = born + 35 + rng.int(55);
    const job = JOBS[i % JOBS.length];
    // Teachers are earlier people of the same profession, so "studied under" is always consistent.
    const elders = people.filter((p) => p.job === job && p.born + 20 < born && p.died > born + 15);
    const town = pick(rng, towns);
    const person: Person = {
      first: pick(rng, female ? FEMALE : MALE),
      last: uniqueName(used, () => cap(syllable(rng) + pick(rng, FAMILY_ENDS))),
      female,
      born,
      died,
      town,
      deathTown: rng.next() < 0.5 ? town : pick(rng, towns),
      job,
      work: `The ${pick(rng, TITLE_ADJ)} ${pick(rng, TITLE_NOUN)}`,
      workYear: born + 20 + rng.int(Math.max(1, died - born - 25)),
      teacher: elders.length > 0 ? pick(rng, elders) : null,
    };
    town.people.push(person);
    people.push(person);
  }
  const naturalists = people.filter((p) => p.job === "naturalist");
  const species: Species[] = [];
  const speciesNames = new Set<string>();
  while (species.length < 18) {
    const animal = pick(rng, ANIMALS);
    const habitat = pick(rng, HABITATS);
    const colour = pick(rng, COLOURS);
    const name = `${colour} ${habitat.adj} ${animal.name}`;
    if (speciesNames.has(name)) continue;
    speciesNames.add(name);
    const describedBy = rng.next() < 0.7 ? pick(rng, naturalists) : null;
    species.push({
      name,
      animal,
      habitat,
      colour,
      province: pick(rng, provinces),
      size: animal.kind === "insect" ? 1 + rng.int(6) : 10 + rng.int(90),
      describedBy,
      describedYear: describedBy ? describedBy.workYear : 0,
    });
  }
  const described = new Map<Person, Species[]>();
  for (const s of species) {
    if (s.describedBy) described.set(s.describedBy, [...(described.get(s.describedBy) ?? []), s]);
  }
  return { provinces, rivers, towns, people, species, described };
}

// ---------------------------------------------------------------------------------------------
// Writing

/** 12400 → "12,400" (fixed format; toLocaleString would depend on the machine). */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ",");
}

/** "a" or "an" before a word (every word here follows the first-letter rule). */
function a(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}

function fullName(p: Person): string {
  return `${p.first} ${p.last}`;
}

function listAnd(items: string[]): string {
  return items.length <= 1
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** The first sentence stays first; the rest appear as a random subset in random order. */
function paragraph(rng: Rng, first: string, rest: string[], keep: number): string {
  rng.shuffle(rest);
  return [first, ...rest.slice(0, keep)].join(" ");
}

function pronouns(p: Person) {
  return p.female
    ? { he: "she", He: "She", his: "her", His: "Her" }
    : { he: "he", He: "He", his: "his", His: "His" };
}

function workSentence(rng: Rng, p: Person): string {
  const { he, He, his, His } = pronouns(p);
  const y = p.workYear;
  switch (p.job) {
    case "painter":
      return pick(rng, [
        `${His} best known painting is ${p.work}, which ${he} finished in ${y}.`,
        `In ${y} ${he} painted ${p.work}.`,
      ]);
    case "poet":
      return pick(rng, [
        `${His} best known poem is ${p.work}, written in ${y}.`,
        `In ${y} ${he} wrote ${p.work}.`,
      ]);
    case "composer":
      return pick(rng, [
        `${His} best known work is ${p.work}, first played in ${y}.`,
        `In ${y} ${he} wrote ${p.work}.`,
      ]);
    case "engineer":
      return `In ${y} ${he} built the bridge over the River ${p.town.river.name} at ${p.town.name}.`;
    case "naturalist":
      return `${He} spent many years in the ${pick(rng, HABITATS).place} of ${p.town.province.name}.`;
    case "mapmaker":
      return `In ${y} ${he} drew the first map of ${p.town.province.name}.`;
    case "physician":
      return `In ${y} ${he} opened a hospital in ${p.town.name}.`;
    default:
      return `In ${y} ${he} found a new comet, which now carries ${his} name.`;
  }
}

function townArticle(rng: Rng, t: Town): string {
  const first = pick(rng, [
    `${t.name} is a town in ${t.province.name}, in the ${t.province.direction} of the country.`,
    `${t.name} is ${
      a(t.trade.goods)
    } town in the ${t.province.direction} of the country, in the province of ${t.province.name}.`,
  ]);
  const rest = [
    pick(rng, [`It lies on the River ${t.river.name}.`, `The River ${t.river.name} flows through the town.`]),
    pick(rng, [`The town was founded in ${t.founded}.`, `${t.name} was founded in ${t.founded}.`]),
    pick(rng, [
      `It has a population of ${thousands(t.population)}.`,
      `About ${thousands(t.population)} people live in ${t.name}.`,
    ]),
    pick(rng, [`Its main trade is ${t.trade.goods}.`, `Many of its people work as ${t.trade.worker}s.`]),
    `The market is held every ${t.market}.`,
    pick(rng, [
      `The best known building in the town is ${t.landmark}.`,
      `Visitors come to see ${t.landmark}.`,
    ]),
  ];
  for (const p of t.people) rest.push(`The ${p.job} ${fullName(p)} was born here in ${p.born}.`);
  const others = t.river.towns.filter((o) => o !== t);
  if (others.length > 0) {
    const o = pick(rng, others);
    rest.push(
      `${o.name} lies on the same river, and ${
        pick(rng, ["boats", "carts", "traders"])
      } from ${t.name} take ${t.trade.goods} there.`,
    );
  }
  return `${t.name}\n\n${paragraph(rng, first, rest, 3 + rng.int(4))}`;
}

function personArticle(rng: Rng, w: World, p: Person): string {
  const { he, He, His } = pronouns(p);
  const first = `${fullName(p)} (${p.born} – ${p.died}) was ${a(p.job)} from ${p.town.name}.`;
  const rest = [
    `${He} was born in ${p.town.name}, a town on the River ${p.town.river.name}.`,
    workSentence(rng, p),
    `${He} died in ${p.deathTown.name} in ${p.died}, at the age of ${p.died - p.born}.`,
    pick(rng, [
      `${His} work is still known in ${p.town.province.name}.`,
      `A street in ${p.town.name} is named after ${p.female ? "her" : "him"}.`,
    ]),
  ];
  if (p.teacher) rest.push(`As a young ${p.job}, ${he} studied under ${fullName(p.teacher)}.`);
  if (p.job === "naturalist") {
    const described = w.described.get(p) ?? [];
    if (described.length > 0) rest.push(`${He} was the first to describe the ${described[0].name}.`);
  }
  return `${fullName(p)}\n\n${paragraph(rng, first, rest, 2 + rng.int(4))}`;
}

function riverArticle(rng: Rng, w: World, r: River): string {
  const first =
    `The River ${r.name} is a river in ${r.province.name}, in the ${r.province.direction} of the country.`;
  const rest = [
    `It rises in the ${r.source} and flows ${r.length} km into the ${r.sea}.`,
    `Towns on the river include ${listAnd(r.towns.map((t) => t.name))}.`,
    pick(rng, [
      `Its water is ${pick(rng, ["clear", "cold", "fast", "slow", "deep"])}.`,
      `Boats carry goods along the river.`,
    ]),
  ];
  const fish = w.species.filter((s) => s.province === r.province && s.habitat.adj === "river");
  if (fish.length > 0) rest.push(`The ${pick(rng, fish).name} lives along its banks.`);
  return `River ${r.name}\n\n${paragraph(rng, first, rest, 2 + rng.int(3))}`;
}

function speciesArticle(rng: Rng, s: Species): string {
  const first = `The ${s.name} is ${a(s.animal.kind)} found in the ${s.habitat.place} of ${s.province.name}.`;
  const rest = [
    `It grows to about ${s.size} cm.`,
    `It feeds on ${s.animal.diet}.`,
    `Its ${s.animal.cover} ${s.animal.cover === "fur" ? "is" : "are"} ${s.colour}.`,
  ];
  if (s.describedBy) {
    rest.push(`It was first described by the naturalist ${fullName(s.describedBy)} in ${s.describedYear}.`);
  }
  return `${cap(s.name)}\n\n${paragraph(rng, first, rest, 2 + rng.int(3))}`;
}

function story(rng: Rng, w: World): string {
  const from = pick(rng, w.towns);
  const same = from.river.towns.filter((t) => t !== from);
  const to = same.length > 0 && rng.next() < 0.6
    ? pick(rng, same)
    : pick(rng, w.towns.filter((t) => t !== from));
  const female = rng.next() < 0.5;
  const name = pick(rng, female ? FEMALE : MALE);
  const [he, He, his] = female ? ["she", "She", "her"] : ["he", "He", "his"];
  const days = 1 + rng.int(9);
  const year = 1700 + rng.int(200);
  const lines = [
    pick(rng, [
      `In the ${pick(rng, SEASONS)} of ${year}, ${
        a(from.trade.worker)
      } named ${name} left ${from.name} for ${to.name} with a cart of ${from.trade.goods}.`,
      `One ${pick(rng, WEATHER)} morning, ${name}, ${
        a(from.trade.worker)
      } from ${from.name}, set out for ${to.name} with ${from.trade.goods} to sell.`,
    ]),
    to.river === from.river
      ? `${He} followed the River ${from.river.name} to ${to.name}.`
      : to.province === from.province
      ? `${He} left the River ${from.river.name} and took the road to the River ${to.river.name}.`
      : `${He} left the River ${from.river.name} behind and crossed into ${to.province.name}.`,
    `The journey took ${NUMBER_WORDS[days]} ${days === 1 ? "day" : "days"}, and the weather was ${
      pick(rng, WEATHER)
    }.`,
    to.trade === from.trade
      ? `In ${to.name} there was already plenty of ${to.trade.goods}, so ${he} sold only a little at the ${to.market} market.`
      : `In ${to.name}, ${he} sold the ${from.trade.goods} at the ${to.market} market and bought ${to.trade.goods}.`,
    pick(rng, [
      `Before going home, ${he} went to see ${to.landmark}.`,
      `Then ${he} went back to ${from.name}, where ${his} family was waiting.`,
      `${He} stayed the night in ${to.name} and went home the next day.`,
    ]),
  ];
  return lines.join(" ");
}

function writeSplit(w: World, rng: Rng, chars: number): string {
  const parts: string[] = [];
  let length = 0;
  while (length < chars) {
    const r = rng.next();
    const article = r < 0.3
      ? townArticle(rng, pick(rng, w.towns))
      : r < 0.55
      ? personArticle(rng, w, pick(rng, w.people))
      : r < 0.65
      ? riverArticle(rng, w, pick(rng, w.rivers))
      : r < 0.8
      ? speciesArticle(rng, pick(rng, w.species))
      : story(rng, w);
    parts.push(article);
    length += article.length + 2;
  }
  return parts.join("\n\n") + "\n";
}
