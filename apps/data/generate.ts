import * as fs from 'fs';
import * as path from 'path';
import { prng } from '../../libs/random';

/**
 * `make data`: a products file shaped like the public dataset dasy is made for. Per 500,000 rows:
 * 466,693 distinct skus (the rest repeat earlier skus, spread through the file, with other
 * values: the later record wins) and 222,024 distinct person-like names; skus of two to four
 * lower-case hyphenated words; descriptions of one to three sentences, about a third quoted and
 * spanning two lines. Deterministic per seed.
 */
export interface GenerateOptions {
  rows: number;
  seed: number;
  out: string;
}

export interface GenerateResult {
  file: string;
  rows: number;
  distinctSkus: number;
  distinctNames: number;
  bytes: number;
}

const FIRST = `James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy Stephanie Ronald Dorothy Jason Rebecca Edward Sharon Jeffrey Laura Ryan Cynthia Jacob Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan Brenda Stephen Emma Larry Anna Justin Pamela Scott Nicole Brandon Samantha Benjamin Katherine Samuel Christine Gregory Helen Alexander Debra Patrick Rachel Frank Carolyn Raymond Janet Jack Maria Dennis Catherine Jerry Heather Tyler Diane Aaron Olivia Jose Julie Adam Joyce Nathan Victoria Henry Ruth Zachary Virginia Douglas Lauren Peter Kelly Kyle Christina Noah Joan Ethan Evelyn Jeremy Judith Walter Andrea Christian Hannah Keith Megan Roger Cheryl Terry Jacqueline Austin Martha Sean Madison Gerald Teresa Carl Gloria Harold Sara Dylan Janice Arthur Ann Lawrence Kathryn Jordan Abigail Jesse Sophia Bryan Frances Billy Jean Bruce Alice Gabriel Judy Joe Isabella Logan Julia Alan Grace Juan Amber Albert Denise Willie Danielle Elijah Marilyn Wayne Beverly Randy Charlotte Vincent Natalie Mason Theresa Roy Diana Ralph Brittany Bobby Doris Russell Kayla Bradley Alexis Philip Lori Eugene Marie`.split(' ');
const LAST = `Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Pena Richards Contreras Willis Carpenter Lawrence Sandoval`.split(' ');
const SUFFIX = ['DDS', 'MD', 'PhD', 'Jr.', 'Sr.', 'II', 'III', 'DVM', 'Esq.'];
const WORDS = `able about above accept across act action active actor add address admit adult affect after again against age agency agent ago agree ahead air all allow almost alone along already also always amount analysis animal answer any anyone appear apply approach area argue arm around arrive art article artist ask assume attack attention attorney audience author avoid away baby back bad bag ball bank bar base beat beautiful because become bed before begin behavior behind believe benefit best better between beyond big bill billion bit black blood blue board body book born both box boy break bring brother budget build building business buy call camera campaign can cancer candidate capital car card care career carry case catch cause cell center central century certain chair challenge chance change character charge check child choice choose church citizen city civil claim class clear clearly close coach cold collection college color come commercial common community company compare computer concern condition conference consider consumer contain continue control cost could country couple course court cover create crime cultural culture cup current customer cut dark data daughter day dead deal death debate decade decide decision deep defense degree describe design despite detail determine develop difference different difficult dinner direction director discover discuss disease doctor dog door down draw dream drive drop drug during each early east easy eat economic economy edge education effect effort eight either election else employee end energy enjoy enough enter entire environment especially establish even evening event ever every evidence exactly example executive exist expect experience expert explain eye face fact factor fail fall family far fast father fear federal feel feeling few field fight figure fill film final finally financial find fine finger finish fire firm first fish five floor fly focus follow food foot force foreign forget form former forward four free friend front full fund future game garden gas general generation girl give glass goal good government great green ground group grow growth guess gun guy hair half hand hang happen happy hard have head health hear heart heat heavy help here herself high himself history hit hold home hope hospital hot hotel hour house however huge human hundred husband idea identify image imagine impact important improve include increase indeed indicate individual industry information inside instead institution interest interesting international interview into investment involve issue item itself job join just keep key kid kill kind kitchen know knowledge land language large last late later laugh law lawyer lay lead leader learn least leave left leg legal less letter level lie life light like likely line list listen little live local long look lose loss lot love low machine magazine main maintain major majority make manage management manager many market marriage material matter may maybe measure media medical meet meeting member memory mention message method middle might military million mind minute miss mission model modern moment money month more morning most mother mouth move movement movie much music must myself name nation national natural nature near nearly necessary need network never news newspaper next nice night none north note nothing notice number occur offer office officer official often oil okay old once only onto open operation opportunity option order organization other others outside over own owner page pain painting paper parent part participant particular partner party pass past patient pattern pay peace people per perform performance perhaps period person personal phone physical pick picture piece place plan plant play player point police policy political poor popular population position positive possible power practice prepare present president pressure pretty prevent price private probably problem process produce product production professional professor program project property protect prove provide public pull purpose push put quality question quickly quite race radio raise range rate rather reach read ready real reality realize really reason receive recent recently recognize record red reduce reflect region relate relationship religious remain remember remove report represent require research resource respond response rest result return reveal rich right rise risk road rock role room rule run safe same save say scene school science scientist score sea season seat second section security see seek seem sell send senior sense series serious serve service set seven several shake share shoot short shot should shoulder show side sign significant similar simple simply since sing single sister sit site situation six size skill skin small smile social society soldier some somebody someone something sometimes son song soon sort sound source south southern space speak special specific speech spend sport spring staff stage stand standard star start state statement station stay step still stock stop store story strategy street strong structure student study stuff style subject success successful such suddenly suffer suggest summer support sure surface system table take talk task tax teach teacher team technology television tell ten tend term test than thank that their them themselves then theory there these they thing think third this those though thought thousand threat three through throughout throw thus time today together tonight too top total tough toward town trade traditional training travel treat treatment tree trial trip trouble true truth try turn two type under understand unit until upon usually value various very victim view violence visit voice vote wait walk wall want war watch water way weapon wear week weight well west western what whatever when where whether which while white whole whom whose wide wife will win wind window wish with within without woman wonder word work worker world worry would write writer wrong yard yeah year yes yet young yourself`.split(' ');

export function distinctCounts(rows: number): { skus: number; names: number } {
  return {
    skus: Math.max(1, Math.min(rows, Math.round((rows * 466693) / 500000))),
    names: Math.max(1, Math.min(rows, Math.round((rows * 222024) / 500000))),
  };
}

export async function generateProducts(options: GenerateOptions): Promise<GenerateResult> {
  const { rows, seed, out } = options;
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: T[]) => xs[int(xs.length)];
  const { skus: skuCount, names: nameCount } = distinctCounts(rows);

  const skuSet = new Set<string>();
  const newSku = () => {
    for (;;) {
      const words = 2 + int(3);
      const parts: string[] = [];
      for (let i = 0; i < words; i++) parts.push(pick(WORDS));
      const sku = parts.join('-');
      if (!skuSet.has(sku)) {
        skuSet.add(sku);
        return sku;
      }
    }
  };
  const nameSet = new Set<string>();
  const newName = () => {
    for (let attempt = 0; ; attempt++) {
      let name = `${pick(FIRST)} ${pick(LAST)}`;
      if (rnd() < 0.12 || attempt > 20) name += ' ' + pick(SUFFIX);
      if (attempt > 40) name = `${pick(FIRST)} ${pick(FIRST).slice(0, 1)}. ${pick(LAST)} ${pick(SUFFIX)}`;
      if (!nameSet.has(name)) {
        nameSet.add(name);
        return name;
      }
    }
  };
  const sentence = () => {
    const n = 6 + int(10);
    const ws: string[] = [];
    for (let i = 0; i < n; i++) ws.push(pick(WORDS));
    const s = ws.join(' ');
    return s[0].toUpperCase() + s.slice(1) + '.';
  };
  const description = () => {
    const n = 1 + int(3);
    if (rnd() < 1 / 3) {
      // quoted, spanning two lines, with a comma and a doubled quote now and then
      const first = sentence().replace(/ (\w+) /, ' $1, ');
      const rest: string[] = [];
      for (let i = 1; i < Math.max(2, n); i++) rest.push(sentence());
      let text = `${first}\n${rest.join(' ')}`;
      if (rnd() < 0.1) text = text.replace(/ (\w+)\./, ' "$1".');
      return '"' + text.replace(/"/g, '""') + '"';
    }
    const ss: string[] = [];
    for (let i = 0; i < n; i++) ss.push(sentence());
    return ss.join(' ');
  };

  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  let bytes = 0;
  let buf = 'name,sku,description\n';
  const flush = () => {
    bytes += fs.writeSync(fd, buf);
    buf = '';
  };
  const skus: string[] = [];
  const names: string[] = [];
  let repeatsLeft = rows - skuCount;
  let namesLeft = nameCount;
  try {
    for (let i = 0; i < rows; i++) {
      const rowsLeft = rows - i;
      // Selection sampling: exactly `repeats` rows repeat an earlier sku, spread evenly at random.
      const repeat = skus.length > 0 && repeatsLeft > 0 && int(rowsLeft) < repeatsLeft;
      let sku: string;
      if (repeat) {
        repeatsLeft--;
        sku = skus[int(skus.length)];
      } else {
        sku = newSku();
        skus.push(sku);
      }
      let name: string;
      if (namesLeft > 0 && (names.length === 0 || int(rowsLeft) < namesLeft)) {
        namesLeft--;
        name = newName();
        names.push(name);
      } else name = names[int(names.length)];
      buf += `${name},${sku},${description()}\n`;
      if (buf.length > 1 << 20) flush();
    }
    flush();
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, out);
  return { file: out, rows, distinctSkus: skuSet.size, distinctNames: nameSet.size, bytes };
}
