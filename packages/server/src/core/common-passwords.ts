/**
 * The most common breached passwords that are at least 8 characters long (so
 * that the length rule alone would not stop them), drawn from public breach
 * corpora such as the NCSC / Have I Been Pwned top lists and RockYou.
 * Lower-case; compare with the candidate lower-cased. NIST SP 800-63B §3.1.1.2
 * asks for exactly this: a blocklist instead of composition rules.
 *
 * Deliberately small: it stops the passwords that credential-stuffing lists try
 * first. A full k-anonymity breach check belongs in a pluggable policy, not here.
 *
 * @example
 * ```ts
 * COMMON_PASSWORDS.has('Password1'.toLowerCase()); // true
 * ```
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  // digits
  '12345678', '123456789', '1234567890', '0123456789', '87654321', '987654321', '0987654321',
  '11111111', '00000000', '22222222', '33333333', '55555555', '66666666', '77777777', '88888888',
  '99999999', '12341234', '11223344', '12121212', '123123123', '12344321', '12345679', '10203040',
  '1234512345', '11112222', '1122334455', '147258369', '159753456', '159357456', '741852963',
  '789456123', '123654789', '963852741', '147852369', '123456123', '111222333', '123321123',
  '01012000', '19871987', '19901990', '20002000', '12345678910', '1111111111', '123456789a',
  // keyboard walks
  'qwertyuiop', 'qwertyui', 'qwerty12', 'qwerty123', 'qwerty1234', 'qwerty12345', 'qwertyuiop123',
  'asdfghjk', 'asdfghjkl', 'asdf1234', 'asdfasdf', 'asdfqwer', 'qwerqwer', 'zxcvzxcv', 'zxcvbnm1',
  'zxcvbnm123', 'zxcvbnmm', 'qazwsxedc', '1qaz2wsx', '1qazxsw2', 'zaq12wsx', 'zaq1zaq1', '1q2w3e4r',
  '1q2w3e4r5t', '1q2w3e4r5t6y', 'q1w2e3r4', 'q1w2e3r4t5', '1234qwer', '123qweasd', '123qweasdzxc',
  'qweasdzxc', '123123qwe', 'qwe123qwe', 'qweqweqwe', 'asdasdasd', 'zxczxczxc', '12345qwert',
  'qwert12345', 'qwertyuiop1', '!qaz2wsx', 'qwerty!@', 'azertyuiop', 'qwertzuiop',
  // the word "password" and friends
  'password', 'password1', 'password12', 'password123', 'password1234', 'password2', 'password01',
  'password11', 'password7', 'password!', 'password1!', 'passw0rd', 'p@ssw0rd', 'p@ssword',
  'pa55word', 'pa55w0rd', 'passpass', 'passwordpassword', 'mypassword', 'newpassword',
  'passwort', 'motdepasse', 'contrasena', 'senha123', 'wachtwoord', 'salasana',
  // letters and simple mixes
  'abcd1234', 'abc12345', 'abc123456', '123456abc', '123abc123', 'abcdefgh', 'abcdefg1',
  'abcabcabc', 'a1b2c3d4', 'aa123456', 'aaaaaaaa', 'xxxxxxxx', 'zzzzzzzz', 'qqqqqqqq',
  // admin and defaults
  'changeme', 'changeme1', 'changeme123', 'admin123', 'admin1234', 'administrator', 'adminadmin',
  'rootroot', 'root1234', 'test1234', 'testtest', 'test12345', 'guest123', 'default1', 'secret123',
  'letmein1', 'letmein123', 'letmein!', 'welcome1', 'welcome12', 'welcome123', 'welcome!',
  'trustno1', 'access14', 'master123', 'masterkey', 'whatever', 'whatever1', 'iamthebest',
  // love and names
  'iloveyou', 'iloveyou1', 'iloveyou2', 'iloveu123', 'lovelove', 'loveyou1', 'lovely123',
  'sweetheart', 'babygirl', 'babygirl1', 'princess', 'princess1', 'angel123', 'michelle',
  'jennifer', 'jennifer1', 'jessica1', 'michael1', 'charlie1', 'charlie123', 'jordan23',
  'ashley12', 'nicole12', 'daniel12', 'matthew1', 'thomas12', 'robert12', 'elizabeth',
  'alexander', 'christopher', 'samantha', 'victoria', 'danielle', 'stephanie', 'margaret',
  // sport, culture, brands
  'football', 'football1', 'baseball', 'baseball1', 'basketball', 'soccer12', 'soccer123',
  'hockey123', 'liverpool', 'chelsea1', 'arsenal1', 'manchester', 'barcelona', 'superman',
  'superman1', 'spiderman', 'batman123', 'starwars', 'starwars1', 'starwars123', 'pokemon1',
  'pokemon123', 'naruto123', 'minecraft', 'blink182', 'metallica', 'slipknot', 'playboy1',
  'myspace1', 'facebook', 'google123', 'linkedin', 'samsung1', 'iphone123', 'apple123',
  'microsoft', 'computer', 'computer1', 'internet', 'internet1', 'mercedes', 'corvette',
  'maverick', 'mustang1', 'harley01', 'ferrari1', 'porsche1',
  // words and seasons
  'sunshine', 'sunshine1', 'butterfly', 'chocolate', 'midnight', 'freedom1', 'thunder1',
  'dragon12', 'dragon123', 'monkey12', 'monkey123', 'shadow12', 'shadow123', 'killer123',
  'pepper12', 'ginger12', 'cookie12', 'hello123', 'hello1234', 'helloworld', 'whatsup1',
  'summer123', 'summer2024', 'winter123', 'winter2024', 'spring2024', 'autumn123', 'december',
  'november', 'september', 'jesus123', 'blessed1', 'godisgood', 'nothing1', 'everything',
  'qwerty123456', 'zaq123456', 'trustme1', 'letmeinnow', 'opensesame', 'youtube1',
]);
