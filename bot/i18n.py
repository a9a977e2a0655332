"""Every text the bot shows a person, in Bahasa Indonesia and English."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

LANGUAGES = ("id", "en")

_MONTHS = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

MESSAGES: dict[str, dict[str, str]] = {
    "id": {
        "cmd.start.description": "Sapaan dan cara memulai",
        "cmd.help.description": "Daftar perintah dan rubrik",
        "cmd.latest.description": "Berita terbaru, bisa per rubrik dan kata kunci",
        "cmd.latest.usage": "/latest [rubrik] [kata kunci]",
        "cmd.read.description": "Baca satu berita selengkapnya",
        "cmd.read.usage": "/read <nomor berita>",
        "cmd.sections.description": "Daftar rubrik",
        "cmd.whoami.description": "Id Anda untuk NEWSBOT_ADMINS, dan apakah Anda admin bot",
        "cmd.subscribe.description": "Berlangganan rubrik di chat ini",
        "cmd.subscribe.usage": "/subscribe <rubrik> [rubrik lain...]",
        "cmd.unsubscribe.description": "Hentikan langganan rubrik",
        "cmd.unsubscribe.usage": "/unsubscribe <rubrik>... atau /unsubscribe all",
        "cmd.subscriptions.description": "Langganan dan kata kunci chat ini",
        "cmd.follow.description": "Ikuti kata kunci di semua rubrik",
        "cmd.follow.usage": "/follow <kata kunci>",
        "cmd.unfollow.description": "Berhenti mengikuti kata kunci",
        "cmd.unfollow.usage": "/unfollow <kata kunci> atau /unfollow all",
        "cmd.lang.description": "Bahasa bot di chat ini (id/en)",
        "cmd.lang.usage": "/lang id atau /lang en",
        "cmd.digest.description": "Satu ringkasan berita sehari, bukan tiap berita",
        "cmd.digest.usage": "/digest <jam, misalnya 07:00> atau /digest off",
        "cmd.quiet.description": "Jam tenang: tahan berita biasa pada jam itu",
        "cmd.quiet.usage": "/quiet <mulai-selesai, misalnya 22:00-06:00> atau /quiet off",
        "cmd.breaking.description": "Kirim berita terkini (khusus admin)",
        "cmd.breaking.usage": "/breaking [#rubrik] <judul> | <isi> [| <tautan>]",
        "cmd.confirm.description": "Kirim draf berita terkini (khusus admin)",
        "cmd.confirm.usage": "/confirm <kode draf>",
        "cmd.cancel.description": "Batalkan draf berita terkini (khusus admin)",
        "cmd.cancel.usage": "/cancel <kode draf>",
        "cmd.correct.description": "Ralat judul atau isi berita; salinan terkirim disunting "
        "(khusus admin)",
        "cmd.correct.usage": "/correct <nomor> <judul baru> | <isi baru>",
        "cmd.retract.description": "Tarik berita dan hapus salinan terkirimnya (khusus admin)",
        "cmd.retract.usage": "/retract <nomor> [alasan]",
        "cmd.status.description": "Status pengiriman satu berita per platform (khusus admin)",
        "cmd.status.usage": "/status <nomor>",
        "cmd.audit.description": "Tindakan admin terakhir (khusus admin)",
        "cmd.audit.usage": "/audit [jumlah]",
        "cmd.latest.param.section": "Rubrik berita",
        "cmd.latest.param.query": "Kata kunci yang dicari",
        "cmd.read.param.id": "Nomor berita, atau ketik judulnya untuk mencari",
        "cmd.subscribe.param.section": "Rubrik yang dilanggan",
        "cmd.subscribe.param.channel": "Kanal tujuan (bawaan: kanal ini)",
        "cmd.unsubscribe.param.section": "Rubrik yang dihentikan, atau all untuk semua",
        "cmd.unsubscribe.param.channel": "Kanal tujuan (bawaan: kanal ini)",
        "cmd.subscriptions.param.channel": "Kanal yang dilihat (bawaan: kanal ini)",
        "cmd.follow.param.words": "Kata kunci yang diikuti",
        "cmd.follow.param.channel": "Kanal tujuan (bawaan: kanal ini)",
        "cmd.unfollow.param.words": "Kata kunci yang dihentikan, atau all untuk semua",
        "cmd.unfollow.param.channel": "Kanal tujuan (bawaan: kanal ini)",
        "cmd.lang.param.language": "Bahasa bot: id atau en",
        "cmd.lang.param.channel": "Kanal tujuan (bawaan: kanal ini)",
        "cmd.digest.param.time": "Jam ringkasan, misalnya 07:00, atau off",
        "cmd.digest.param.channel": "Kanal tujuan (bawaan: kanal ini)",
        "cmd.quiet.param.hours": "Jam tenang, misalnya 22:00-06:00, atau off",
        "cmd.quiet.param.channel": "Kanal tujuan (bawaan: kanal ini)",
        "cmd.breaking.param.section": "Rubrik (bawaan: rubrik berita terkini)",
        "cmd.breaking.param.headline": "Judul berita",
        "cmd.breaking.param.text": "Isi berita",
        "cmd.breaking.param.link": "Tautan ke berita lengkap",
        "cmd.confirm.param.code": "Kode draf",
        "cmd.cancel.param.code": "Kode draf",
        "cmd.correct.param.id": "Nomor berita",
        "cmd.correct.param.headline": "Judul baru",
        "cmd.correct.param.text": "Isi baru",
        "cmd.retract.param.id": "Nomor berita",
        "cmd.retract.param.reason": "Alasan penarikan",
        "cmd.status.param.id": "Nomor berita",
        "cmd.audit.param.count": "Jumlah tindakan yang ditampilkan",
        "cmd.feeds.description": "Sumber berita yang dipantau (khusus admin)",
        "cmd.addfeed.description": "Tambah sumber berita: feed RSS/Atom (khusus admin)",
        "cmd.addfeed.usage": "/addfeed <URL feed> <rubrik>",
        "cmd.addfeed.param.url": "Alamat feed RSS atau Atom",
        "cmd.addfeed.param.section": "Rubrik berita dari feed ini",
        "cmd.removefeed.description": "Hapus sumber berita (khusus admin)",
        "cmd.removefeed.usage": "/removefeed <nomor feed>",
        "cmd.removefeed.param.feed": "Nomor feed dari /feeds",
        "cmd.post.description": "Muat satu halaman berita dan kirimkan (khusus admin)",
        "cmd.post.usage": "/post <URL berita> [rubrik]",
        "cmd.post.param.url": "Alamat halaman berita",
        "cmd.post.param.section": "Rubrik (bawaan: dari halaman itu)",
        "feeds.none": "Belum ada sumber berita. Tambahkan dengan /addfeed <URL> <rubrik>.",
        "feeds.header": "Sumber berita ({count}):",
        "feeds.ok": "berjalan",
        "feeds.failing": "gagal {count} kali berturut-turut",
        "feeds.disabled": "dimatikan",
        "feeds.added": "Feed {id} ditambahkan: {url} ({section}). Pemantauan pertama menyimpan "
        "beritanya tanpa mengirimkannya.",
        "feeds.removed": "Feed {id} dihapus: {url}. Beritanya tetap tersimpan.",
        "feeds.refused": "Tidak bisa: {reason}",
        "post.new": "Disimpan sebagai #{id}: {title}. Dikirim ke {count} chat.",
        "post.new:0": "Disimpan sebagai #{id}: {title}. Belum ada chat yang berlangganan "
        "rubriknya atau mengikuti kata kuncinya, jadi tidak dikirim ke mana pun.",
        "post.too_old": "Disimpan sebagai #{id}: {title}. Tidak dikirim ke chat mana pun karena "
        "terbit {time}, lebih dari {hours} jam lalu (NEWSBOT_PUSH_MAX_AGE_HOURS).",
        "post.date_unread": "Disimpan sebagai #{id}: {title}. Tidak dikirim ke chat mana pun: "
        "tanggal terbitnya tidak terbaca, jadi tidak bisa disebut berita baru.",
        "post.updated": "Berita #{id} diperbarui: {title}.",
        "post.duplicate": "Berita itu sudah ada: #{id} {title}.",
        "post.failed": "Halaman itu tidak bisa dimuat: {reason}",
        "post.fetching": "Memuat {url} …",
        "notice.feed_disabled": "Feed {id} ({url}) dimatikan setelah gagal {count} kali "
        "berturut-turut: {reason}. Aktifkan lagi dengan newsbot feeds enable {id} setelah "
        "diperbaiki.",
        "notice.feed_recovered": "Feed {id} ({url}) berjalan lagi.",
        "notice.outage_over": "{platform} tidak menjawab sejak {started} selama {length}. "
        "Pengiriman menunggu dan kini berjalan lagi; tidak ada berita yang hilang.",
        "error.unknown_command": "Perintah /{name} tidak dikenal. Ketik /help untuk daftar "
        "perintah.",
        "error.not_command": "Kirim perintah yang diawali garis miring, misalnya /latest nato. "
        "Ketik /help untuk daftar perintah.",
        "error.usage": "Cara pakai: {usage}",
        "error.internal": "Maaf, terjadi kesalahan di pihak kami. Silakan coba beberapa saat "
        "lagi.",
        "error.not_manager": "Hanya pengelola chat ini yang dapat mengubah langganan dan "
        "pengaturannya.",
        "error.not_admin": "Hanya admin bot yang dapat mengirim berita terkini. Kirim /whoami "
        "untuk melihat id Anda.",
        "error.unknown_section": 'Rubrik "{word}" tidak ada. Rubrik yang tersedia: {slugs}.',
        "error.bad_article_id": "Nomor berita harus berupa angka, misalnya /read 42.",
        "start.greeting": "Halo! Saya newsbot, pengantar berita Indonesia.\n\n"
        "Cari berita dengan /latest, misalnya /latest nato atau /latest ekonomi. "
        "Berlangganan rubrik dengan /subscribe internasional, dan berita barunya akan "
        "dikirim ke sini. Ketik /help untuk melihat semua perintah.",
        "help.header": "Perintah:",
        "help.sections": "Rubrik: {sections}",
        "latest.header": "Berita terbaru:",
        "latest.header_section": "Berita terbaru di rubrik {section}:",
        "latest.header_query": 'Berita terbaru tentang "{query}":',
        "latest.header_query_section": 'Berita terbaru tentang "{query}" di rubrik {section}:',
        "latest.no_terms": "Kata kunci Anda tidak memuat huruf atau angka yang bisa dicari, "
        "jadi inilah berita terbaru.",
        "latest.none": "Belum ada berita tersimpan.",
        "latest.none_section": "Belum ada berita di rubrik {section}. Lihat /sections untuk "
        "rubrik lain.",
        "latest.none_query": 'Tidak ada berita tentang "{query}". Coba kata yang lebih umum '
        "atau kurangi jumlah katanya, atau ketik /latest untuk berita terbaru.",
        "latest.none_query_section": 'Tidak ada berita tentang "{query}" di rubrik {section}. '
        "Coba tanpa rubrik: /latest {query}",
        "read.not_found": "Berita nomor {id} tidak ada. Cari berita dengan /latest.",
        "read.author": "Oleh {author}",
        "read.source": "Sumber: {url}",
        "read.also_reported": "Juga diberitakan oleh: {sources}",
        "button.read": "Baca",
        "badge.breaking": "BERITA TERKINI",
        "card.revised": "(diperbarui {time})",
        "sections.header": "Rubrik dan nama pendeknya (untuk /subscribe dan /latest):",
        "sections.aliases": "(juga: {aliases})",
        "whoami.id": "Id Anda: {actor}\nBaris untuk .env bot: NEWSBOT_ADMINS={actor}",
        "whoami.admin": "Anda admin bot: NEWSBOT_ADMINS memuat id ini.",
        "whoami.not_admin": "Anda bukan admin bot. Untuk menjadi admin, minta operator bot "
        "menambahkan id ini ke NEWSBOT_ADMINS (dipisah koma bila sudah ada admin lain) lalu "
        "memulai ulang bot.",
        "whoami.no_person": "Perintah ini dikirim atas nama chat, bukan oleh seseorang, jadi "
        "tidak ada id pengguna untuk NEWSBOT_ADMINS. Kirim /whoami kepada bot di chat pribadi "
        "untuk melihat id Anda.",
        "whoami.unlisted": "Id Anda, {actor}, tidak dapat ditulis di NEWSBOT_ADMINS: id di sana "
        "tidak boleh memuat spasi atau koma.",
        "subscribe.added": "Berlangganan rubrik {sections}. Berita barunya akan dikirim ke sini.",
        "subscribe.already": "Chat ini sudah berlangganan rubrik {sections}.",
        "unsubscribe.removed": "Langganan rubrik {sections} dihentikan.",
        "unsubscribe.absent": "Chat ini tidak berlangganan rubrik {sections}.",
        "unsubscribe.nothing": "Chat ini belum berlangganan rubrik apa pun.",
        "subscriptions.sections": "Langganan: {sections}",
        "subscriptions.follows": "Kata kunci yang diikuti: {follows}",
        "subscriptions.none": "Chat ini belum berlangganan apa pun. Contoh: /subscribe "
        "internasional atau /follow nato.",
        "follow.added": 'Setiap berita baru tentang "{words}" akan dikirim ke sini.',
        "follow.already": 'Chat ini sudah mengikuti "{words}".',
        "follow.no_terms": "Kata kunci harus memuat huruf atau angka, misalnya /follow nato.",
        "follow.only_common": 'Kata "{words}" terlalu umum untuk diikuti. Pilih kata yang lebih '
        "khas, misalnya /follow nato.",
        "follow.common_left_out": "Kata yang terlalu umum tidak dihitung: {words}.",
        "follow.too_many": "Satu chat dapat mengikuti paling banyak {limit} kata kunci. Hapus "
        "yang lama dengan /unfollow.",
        "unfollow.removed": "Berhenti mengikuti {follows}.",
        "unfollow.nothing": "Chat ini tidak mengikuti kata kunci apa pun.",
        "unfollow.absent": 'Chat ini tidak mengikuti "{words}". Lihat /subscriptions.',
        "lang.set": "Chat ini sekarang memakai Bahasa Indonesia.",
        "error.bad_time": 'Jam "{time}" tidak dapat dibaca. Tulis jam dari 00:00 sampai 23:59, '
        "misalnya 07:00.",
        "digest.set": "Chat ini sekarang menerima satu ringkasan berita setiap hari pukul {time}, "
        "berisi berita baru dari langganan dan kata kunci chat ini. Berita terkini tetap "
        "dikirim langsung. Matikan dengan /digest off.",
        "digest.off": "Ringkasan harian dimatikan: berita baru kembali dikirim langsung.",
        "digest.in_quiet": "Pukul {time} termasuk jam tenang chat ini, jadi ringkasan datang "
        "saat jam tenang berakhir, pukul {end}.",
        "quiet.set": "Jam tenang {hours}: pada jam itu hanya berita terkini yang dikirim; berita "
        "lain ditahan dan datang sesudahnya sebagai satu ringkasan. Matikan dengan /quiet off.",
        "quiet.off": "Jam tenang dimatikan.",
        "quiet.same_time": "Jam mulai dan jam selesai harus berbeda, misalnya /quiet 22:00-06:00.",
        "mode.instant": "Pengiriman: langsung, setiap ada berita baru.",
        "mode.digest": "Pengiriman: satu ringkasan setiap hari pukul {time}; berita terkini "
        "langsung.",
        "mode.quiet": "Jam tenang: {hours}.",
        "mode.held_now": "{count} berita yang tertahan segera dikirim sebagai satu ringkasan.",
        "mode.held_until": "{count} berita yang tertahan akan dikirim dalam ringkasan pukul "
        "{time}.",
        "digest.header": "Ringkasan berita, {time}: {count} berita",
        "backlog.header": "{count} berita baru sekaligus (terlalu banyak untuk satu per satu)",
        "digest.older": "… dan {count} berita lain yang lebih lama.",
        "breaking.stored": "Berita terkini #{id} disimpan di rubrik {section} dan akan dikirim "
        "ke {count} chat.",
        "breaking.stored:0": "Berita terkini #{id} disimpan di rubrik {section}; belum ada chat "
        "yang berlangganan.",
        "breaking.duplicate": "Berita yang sama sudah tersimpan (#{id}); tidak dikirim ulang.",
        "breaking.updated": "Berita #{id} dengan judul yang sama diperbarui. Pesan yang sudah "
        "terkirim ke {count} chat akan disunting, bukan dikirim ulang.",
        "breaking.updated:0": "Berita #{id} dengan judul yang sama diperbarui. Belum ada pesan "
        "terkirim yang perlu disunting.",
        "breaking.bad_link": 'Tautan "{link}" bukan alamat http(s) yang sah.',
        "error.admin_only": "Hanya admin bot yang dapat memakai /{name}. Kirim /whoami untuk "
        "melihat id Anda.",
        "read.retracted": "Berita nomor {id} telah ditarik oleh redaksi.",
        "button.send": "Kirim",
        "button.cancel": "Batal",
        "platform.console": "konsol",
        "platform.telegram": "Telegram",
        "platform.discord": "Discord",
        "discord.not_manager_there": "Anda perlu izin Manage Channels di {channel} untuk "
        "mengubahnya.",
        "discord.bot_missing": "Bot belum bisa mengirim berita ke {channel}: izin yang kurang: "
        "{permissions}. Tidak ada yang disimpan.",
        "draft.reach": "Akan dikirim ke {count} chat: {platforms}.",
        "draft.reach:0": "Belum ada chat yang akan menerimanya; berita tetap disimpan dan bisa "
        "dicari.",
        "draft.correction": "Judul ini sudah dikirim hari ini sebagai berita #{id}, jadi ini "
        "ralat: {count} pesan terkirim akan disunting, bukan dikirim ulang.",
        "draft.correction:0": "Judul ini sudah dikirim hari ini sebagai berita #{id}, jadi ini "
        "ralat; belum ada pesan terkirim yang perlu disunting.",
        "draft.pending": "Draf {code}, belum dikirim. Kirim atau batalkan sebelum {time}; "
        "setelah itu draf kedaluwarsa dan tidak ada yang dikirim.",
        "draft.retracted": "Berita dengan judul ini (#{id}) sudah ditarik. Ganti judulnya untuk "
        "mengirim berita baru.",
        "draft.unknown": 'Tidak ada draf "{code}". Buat draf dengan /breaking.',
        "draft.expired": "Draf {code} kedaluwarsa pada {time} dan tidak dikirim. Kirim /breaking "
        "lagi untuk membuat draf baru.",
        "draft.sent": "Draf {code} sudah dikirim sebagai berita #{id}. Lihat /status {id}, atau "
        "tarik dengan /retract {id}.",
        "draft.sending": "Draf {code} sedang dikirim.",
        "draft.cancelled": "Draf {code} sudah dibatalkan; tidak ada yang dikirim.",
        "cancel.done": "Draf {code} dibatalkan; tidak ada yang dikirim.",
        "live.progress": "Antre {waiting} · terkirim {sent} · gagal {failed} · chat hilang {gone}",
        "live.done": "Selesai: terkirim {sent} · gagal {failed} · chat hilang {gone}. Rincian: "
        "/status {id}",
        "live.cancelled": " · dibatalkan {count}",
        "live.stopped": "Pengiriman masih berjalan; lihat /status {id}.",
        "correct.done": "Berita #{id} diralat. Pesan yang sudah terkirim ke {count} chat akan "
        "disunting.",
        "correct.done:0": "Berita #{id} diralat. Belum ada pesan terkirim yang perlu disunting.",
        "correct.unchanged": "Berita #{id} sudah seperti itu; tidak ada yang berubah.",
        "correct.retracted": "Berita #{id} sudah ditarik, jadi tidak dapat diralat.",
        "retract.done": 'Berita #{id} "{title}" ditarik: tidak lagi muncul di /latest dan /read.',
        "retract.deleting": "{count} salinan terkirim akan dihapus.",
        "retract.deleting:0": "Tidak ada salinan terkirim yang bisa dihapus.",
        "retract.cannot": "{count} salinan tidak dapat dihapus: {reasons}.",
        "retract.too_old": "{count} di {platform} terkirim lebih dari {hours} jam lalu (batas "
        "{platform})",
        "retract.gone": "{count} di chat yang sudah memblokir atau mengeluarkan bot",
        "retract.cancelled": "{count} kiriman yang belum terkirim dibatalkan.",
        "retract.already": "Berita #{id} sudah ditarik pada {time}.",
        "status.header": "#{id} {title}",
        "status.meta": "{section} · {time}",
        "status.retracted": "Ditarik {time}.",
        "status.retracted_reason": "Ditarik {time}: {reason}",
        "status.line": "{platform}, {kind}: {total} — terkirim {sent} · antre {waiting} · gagal "
        "{failed} · dibatalkan {dropped}",
        "status.gone": " (chat hilang {gone})",
        "status.possible_duplicates": " · mungkin terkirim dua kali {count}",
        "status.kind.send": "kiriman",
        "status.kind.edit": "suntingan",
        "status.kind.delete": "penghapusan",
        "status.none": "Berita ini belum dikirim ke chat mana pun.",
        "audit.header": "Tindakan admin terakhir:",
        "audit.none": "Belum ada tindakan admin yang tercatat.",
        "audit.action.draft": "membuat draf",
        "audit.action.breaking": "mengirim berita terkini",
        "audit.action.cancel": "membatalkan draf",
        "audit.action.correct": "meralat",
        "audit.action.retract": "menarik",
        "telegram.for_target": "Untuk {target}:",
        "telegram.target_not_found": "Saya tidak menemukan {target}. Periksa nama kanalnya, dan "
        "pastikan bot sudah ditambahkan ke kanal itu sebagai admin.",
        "telegram.target_is_private": "{target} bukan kanal atau grup.",
        "telegram.target_not_admin": "Hanya admin {target} yang dapat mengatur langganannya.",
        "telegram.bot_cannot_post": "Bot belum bisa mengirim pesan ke {target}. Jadikan bot "
        "admin di sana dengan izin mengirim pesan, lalu coba lagi.",
        "telegram.check_failed": "Status admin tidak dapat diperiksa saat ini. Silakan coba "
        "beberapa saat lagi.",
        "console.banner.chat": 'newsbot — chat konsol "{chat}" ({kind}), Anda masuk sebagai '
        '"{user}".',
        "console.banner.database": "Basis data: {path}",
        "console.banner.log_file": "Log: {path}",
        "console.banner.log_here": "Log: ditampilkan di sini (NEWSBOT_LOG_LEVEL=DEBUG)",
        "console.banner.log_failed": "Log: {path} tidak dapat ditulis ({reason}), jadi log "
        "ditampilkan di sini",
        "console.banner.history_file": "Riwayat perintah: {path}",
        "console.banner.history_failed": "Riwayat perintah: {path} tidak dapat ditulis "
        "({reason}), jadi riwayat hanya disimpan sampai chat ini ditutup",
        "console.banner.keys": "Ketik /help untuk daftar perintah. Panah atas/bawah dan Ctrl-R "
        "mencari perintah sebelumnya, Tab melengkapi nama perintah. Keluar dengan Ctrl-D; "
        "Ctrl-C menghapus baris yang sedang diketik, dan di baris kosong juga keluar.",
        "console.kind.private": "pribadi",
        "console.kind.group": "grup",
        "console.kind.channel": "kanal",
        "console.correction": 'Ralat berita #{id} "{title}":',
        "console.correction_unnamed": "Ralat pesan yang terkirim sebelumnya:",
        "console.withdrawn": 'Berita #{id} "{title}" ditarik oleh redaksi.',
        "console.withdrawn_unnamed": "Sebuah pesan yang terkirim sebelumnya ditarik oleh redaksi.",
    },
    "en": {
        "cmd.start.description": "Greeting and how to start",
        "cmd.help.description": "Commands and sections",
        "cmd.latest.description": "Latest news, optionally by section and keywords",
        "cmd.latest.usage": "/latest [section] [keywords]",
        "cmd.read.description": "Read a whole story",
        "cmd.read.usage": "/read <story number>",
        "cmd.sections.description": "List the sections",
        "cmd.whoami.description": "Your id for NEWSBOT_ADMINS, and whether you are a bot admin",
        "cmd.subscribe.description": "Subscribe this chat to sections",
        "cmd.subscribe.usage": "/subscribe <section> [more sections...]",
        "cmd.unsubscribe.description": "Stop section subscriptions",
        "cmd.unsubscribe.usage": "/unsubscribe <section>... or /unsubscribe all",
        "cmd.subscriptions.description": "This chat's subscriptions and keywords",
        "cmd.follow.description": "Follow keywords across all sections",
        "cmd.follow.usage": "/follow <keywords>",
        "cmd.unfollow.description": "Stop following keywords",
        "cmd.unfollow.usage": "/unfollow <keywords> or /unfollow all",
        "cmd.lang.description": "The bot's language in this chat (id/en)",
        "cmd.lang.usage": "/lang id or /lang en",
        "cmd.digest.description": "One news digest a day instead of every story",
        "cmd.digest.usage": "/digest <time, e.g. 07:00> or /digest off",
        "cmd.quiet.description": "Quiet hours: hold regular news during those hours",
        "cmd.quiet.usage": "/quiet <start-end, e.g. 22:00-06:00> or /quiet off",
        "cmd.breaking.description": "Post breaking news (admins only)",
        "cmd.breaking.usage": "/breaking [#section] <headline> | <text> [| <link>]",
        "cmd.confirm.description": "Send a breaking news draft (admins only)",
        "cmd.confirm.usage": "/confirm <draft code>",
        "cmd.cancel.description": "Cancel a breaking news draft (admins only)",
        "cmd.cancel.usage": "/cancel <draft code>",
        "cmd.correct.description": "Correct a story's headline or text; delivered copies are "
        "edited (admins only)",
        "cmd.correct.usage": "/correct <number> <new headline> | <new text>",
        "cmd.retract.description": "Withdraw a story and delete its delivered copies (admins "
        "only)",
        "cmd.retract.usage": "/retract <number> [reason]",
        "cmd.status.description": "How one story's delivery stands, per platform (admins only)",
        "cmd.status.usage": "/status <number>",
        "cmd.audit.description": "The latest admin actions (admins only)",
        "cmd.audit.usage": "/audit [count]",
        "cmd.latest.param.section": "News section",
        "cmd.latest.param.query": "Keywords to search for",
        "cmd.read.param.id": "Story number, or type its title to search",
        "cmd.subscribe.param.section": "Section to subscribe to",
        "cmd.subscribe.param.channel": "Channel to change (default: this one)",
        "cmd.unsubscribe.param.section": "Section to stop, or all",
        "cmd.unsubscribe.param.channel": "Channel to change (default: this one)",
        "cmd.subscriptions.param.channel": "Channel to show (default: this one)",
        "cmd.follow.param.words": "Keywords to follow",
        "cmd.follow.param.channel": "Channel to change (default: this one)",
        "cmd.unfollow.param.words": "Keywords to stop following, or all",
        "cmd.unfollow.param.channel": "Channel to change (default: this one)",
        "cmd.lang.param.language": "Bot language: id or en",
        "cmd.lang.param.channel": "Channel to change (default: this one)",
        "cmd.digest.param.time": "Time of the digest, e.g. 07:00, or off",
        "cmd.digest.param.channel": "Channel to change (default: this one)",
        "cmd.quiet.param.hours": "Quiet hours, e.g. 22:00-06:00, or off",
        "cmd.quiet.param.channel": "Channel to change (default: this one)",
        "cmd.breaking.param.section": "Section (default: the breaking-news section)",
        "cmd.breaking.param.headline": "Headline",
        "cmd.breaking.param.text": "Story text",
        "cmd.breaking.param.link": "Link to the full story",
        "cmd.confirm.param.code": "Draft code",
        "cmd.cancel.param.code": "Draft code",
        "cmd.correct.param.id": "Story number",
        "cmd.correct.param.headline": "New headline",
        "cmd.correct.param.text": "New text",
        "cmd.retract.param.id": "Story number",
        "cmd.retract.param.reason": "Reason for the retraction",
        "cmd.status.param.id": "Story number",
        "cmd.audit.param.count": "How many actions to show",
        "cmd.feeds.description": "The news sources being watched (admins only)",
        "cmd.addfeed.description": "Add a news source: an RSS/Atom feed (admins only)",
        "cmd.addfeed.usage": "/addfeed <feed URL> <section>",
        "cmd.addfeed.param.url": "Address of the RSS or Atom feed",
        "cmd.addfeed.param.section": "Section of this feed's stories",
        "cmd.removefeed.description": "Remove a news source (admins only)",
        "cmd.removefeed.usage": "/removefeed <feed number>",
        "cmd.removefeed.param.feed": "Feed number from /feeds",
        "cmd.post.description": "Load one article page and push it (admins only)",
        "cmd.post.usage": "/post <article URL> [section]",
        "cmd.post.param.url": "Address of the article page",
        "cmd.post.param.section": "Section (default: the page's own)",
        "feeds.none": "No news sources yet. Add one with /addfeed <URL> <section>.",
        "feeds.header": "News sources ({count}):",
        "feeds.ok": "running",
        "feeds.failing": "failed {count} times in a row",
        "feeds.disabled": "disabled",
        "feeds.added": "Feed {id} added: {url} ({section}). Its first poll stores its stories "
        "without pushing them.",
        "feeds.removed": "Feed {id} removed: {url}. Its stories stay.",
        "feeds.refused": "Not possible: {reason}",
        "post.new": "Stored as #{id}: {title}. Pushed to {count} chats.",
        "post.new:0": "Stored as #{id}: {title}. No chat subscribes to its section or follows "
        "its words yet, so it was pushed nowhere.",
        "post.new:1": "Stored as #{id}: {title}. Pushed to 1 chat.",
        "post.too_old": "Stored as #{id}: {title}. Not pushed to any chat: it was published "
        "{time}, more than {hours} hours ago (NEWSBOT_PUSH_MAX_AGE_HOURS).",
        "post.date_unread": "Stored as #{id}: {title}. Not pushed to any chat: its publication "
        "date could not be read, so it cannot be called news.",
        "post.updated": "Story #{id} updated: {title}.",
        "post.duplicate": "That story is already here: #{id} {title}.",
        "post.failed": "That page could not be loaded: {reason}",
        "post.fetching": "Fetching {url} …",
        "notice.feed_disabled": "Feed {id} ({url}) was disabled after {count} failures in a "
        "row: {reason}. Enable it again with newsbot feeds enable {id} once it is fixed.",
        "notice.feed_recovered": "Feed {id} ({url}) is working again.",
        "notice.outage_over": "{platform} did not answer from {started} for {length}. "
        "Delivery waited and is running again; no story was lost.",
        "error.unknown_command": "Unknown command /{name}. Type /help for the list of commands.",
        "error.not_command": "Send a command starting with a slash, such as /latest nato. "
        "Type /help for the list of commands.",
        "error.usage": "Usage: {usage}",
        "error.internal": "Sorry, something went wrong on our side. Please try again shortly.",
        "error.not_manager": "Only the managers of this chat can change its subscriptions and "
        "settings.",
        "error.not_admin": "Only the bot's admins can post breaking news. Send /whoami to see "
        "your id.",
        "error.unknown_section": 'There is no section "{word}". Sections: {slugs}.',
        "error.bad_article_id": "A story number is made of digits, for example /read 42.",
        "start.greeting": "Hello! I am newsbot, your Indonesian news companion.\n\n"
        "Search with /latest, for example /latest nato or /latest economy. Subscribe "
        "to a section with /subscribe international and new stories will arrive here. "
        "Type /help for every command.",
        "help.header": "Commands:",
        "help.sections": "Sections: {sections}",
        "latest.header": "Latest news:",
        "latest.header_section": "Latest news in {section}:",
        "latest.header_query": 'Latest news about "{query}":',
        "latest.header_query_section": 'Latest news about "{query}" in {section}:',
        "latest.no_terms": "Your keywords have no letters or digits to search for, so here is "
        "the latest news.",
        "latest.none": "No stories are stored yet.",
        "latest.none_section": "No stories in {section} yet. See /sections for the others.",
        "latest.none_query": 'No stories about "{query}". Try a more general word or fewer '
        "words, or type /latest for the newest stories.",
        "latest.none_query_section": 'No stories about "{query}" in {section}. Try without '
        "the section: /latest {query}",
        "read.not_found": "There is no story number {id}. Search with /latest.",
        "read.author": "By {author}",
        "read.source": "Source: {url}",
        "read.also_reported": "Also reported by: {sources}",
        "button.read": "Read",
        "badge.breaking": "BREAKING",
        "card.revised": "(updated {time})",
        "sections.header": "Sections and their short names (for /subscribe and /latest):",
        "sections.aliases": "(also: {aliases})",
        "whoami.id": "Your id: {actor}\nThe line for the bot's .env: NEWSBOT_ADMINS={actor}",
        "whoami.admin": "You are a bot admin: NEWSBOT_ADMINS holds this id.",
        "whoami.not_admin": "You are not a bot admin. To become one, ask the bot's operator to "
        "add this id to NEWSBOT_ADMINS (comma-separated if there are other admins) and restart "
        "the bot.",
        "whoami.no_person": "This command was posted in the name of a chat, not by a person, so "
        "there is no user id for NEWSBOT_ADMINS. Send /whoami to the bot in a private chat to "
        "see your id.",
        "whoami.unlisted": "Your id, {actor}, cannot be written in NEWSBOT_ADMINS: an id there "
        "has no spaces or commas.",
        "subscribe.added": "Subscribed to {sections}. New stories will arrive here.",
        "subscribe.already": "This chat is already subscribed to {sections}.",
        "unsubscribe.removed": "Unsubscribed from {sections}.",
        "unsubscribe.absent": "This chat is not subscribed to {sections}.",
        "unsubscribe.nothing": "This chat has no section subscriptions.",
        "subscriptions.sections": "Subscriptions: {sections}",
        "subscriptions.follows": "Keywords: {follows}",
        "subscriptions.none": "This chat has no subscriptions yet. For example: /subscribe "
        "international or /follow nato.",
        "follow.added": 'Every new story about "{words}" will arrive here.',
        "follow.already": 'This chat already follows "{words}".',
        "follow.no_terms": "Keywords need letters or digits, for example /follow nato.",
        "follow.only_common": '"{words}" is too common to follow. Choose a more specific word, '
        "for example /follow nato.",
        "follow.common_left_out": "Words too common to count were left out: {words}.",
        "follow.too_many": "A chat can follow at most {limit} keywords. Remove old ones with "
        "/unfollow.",
        "unfollow.removed": "Stopped following {follows}.",
        "unfollow.nothing": "This chat follows no keywords.",
        "unfollow.absent": 'This chat does not follow "{words}". See /subscriptions.',
        "lang.set": "This chat's language is now English.",
        "error.bad_time": 'Cannot read "{time}" as a time. Write a time from 00:00 to 23:59, '
        "for example 07:00.",
        "digest.set": "This chat now gets one news digest a day at {time}, with the new stories "
        "of its subscriptions and keywords. Breaking news still arrives at once. Turn it off "
        "with /digest off.",
        "digest.off": "Daily digest turned off: new stories arrive as they come again.",
        "digest.in_quiet": "{time} falls in this chat's quiet hours, so the digest comes when "
        "they end, at {end}.",
        "quiet.set": "Quiet hours {hours}: only breaking news arrives in those hours; other "
        "stories are held and come afterwards as one digest. Turn them off with /quiet off.",
        "quiet.off": "Quiet hours turned off.",
        "quiet.same_time": "Quiet hours must start and end at different times, for example "
        "/quiet 22:00-06:00.",
        "mode.instant": "Delivery: at once, as each new story comes.",
        "mode.digest": "Delivery: one digest a day at {time}; breaking news at once.",
        "mode.quiet": "Quiet hours: {hours}.",
        "mode.held_now": "{count} held stories are on their way as one digest.",
        "mode.held_now:1": "1 held story is on its way.",
        "mode.held_until": "{count} held stories will come in the digest at {time}.",
        "mode.held_until:1": "1 held story will come in the digest at {time}.",
        "digest.header": "News digest, {time}: {count} stories",
        "backlog.header": "{count} new stories at once (too many to send one by one)",
        "digest.header:1": "News digest, {time}: 1 story",
        "digest.older": "… and {count} older stories.",
        "digest.older:1": "… and 1 older story.",
        "breaking.stored": "Breaking story #{id} stored in {section} and queued for {count} "
        "chats.",
        "breaking.stored:0": "Breaking story #{id} stored in {section}; no chat subscribes to "
        "it yet.",
        "breaking.stored:1": "Breaking story #{id} stored in {section} and queued for 1 chat.",
        "breaking.duplicate": "The same story is already stored (#{id}); not sent again.",
        "breaking.updated": "Story #{id} with the same headline was updated. The messages already "
        "delivered to {count} chats will be edited, not sent again.",
        "breaking.updated:1": "Story #{id} with the same headline was updated. The message "
        "already delivered to 1 chat will be edited, not sent again.",
        "breaking.updated:0": "Story #{id} with the same headline was updated. No delivered "
        "message needs editing.",
        "breaking.bad_link": 'The link "{link}" is not a valid http(s) address.',
        "error.admin_only": "Only the bot's admins can use /{name}. Send /whoami to see your id.",
        "read.retracted": "Story number {id} was withdrawn by the newsroom.",
        "button.send": "Send",
        "button.cancel": "Cancel",
        "platform.console": "console",
        "platform.telegram": "Telegram",
        "platform.discord": "Discord",
        "discord.not_manager_there": "You need the Manage Channels permission in {channel} to "
        "change it.",
        "discord.bot_missing": "The bot cannot post stories in {channel} yet; it lacks: "
        "{permissions}. Nothing was stored.",
        "draft.reach": "It will go to {count} chats: {platforms}.",
        "draft.reach:1": "It will go to 1 chat: {platforms}.",
        "draft.reach:0": "No chat will receive it yet; the story is still stored and can be "
        "searched.",
        "draft.correction": "This headline was sent today as story #{id}, so this is a "
        "correction: {count} delivered messages will be edited, not sent again.",
        "draft.correction:1": "This headline was sent today as story #{id}, so this is a "
        "correction: 1 delivered message will be edited, not sent again.",
        "draft.correction:0": "This headline was sent today as story #{id}, so this is a "
        "correction; no delivered message needs editing.",
        "draft.pending": "Draft {code}, not sent yet. Send or cancel it before {time}; after "
        "that the draft expires and nothing is sent.",
        "draft.retracted": "A story with this headline (#{id}) was withdrawn. Change the headline "
        "to send a new story.",
        "draft.unknown": 'There is no draft "{code}". Write one with /breaking.',
        "draft.expired": "Draft {code} expired at {time} and was not sent. Post /breaking again "
        "for a new draft.",
        "draft.sent": "Draft {code} was already sent as story #{id}. See /status {id}, or "
        "withdraw it with /retract {id}.",
        "draft.sending": "Draft {code} is being sent.",
        "draft.cancelled": "Draft {code} was cancelled; nothing was sent.",
        "cancel.done": "Draft {code} cancelled; nothing was sent.",
        "live.progress": "Queued {waiting} · sent {sent} · failed {failed} · chats gone {gone}",
        "live.done": "Done: sent {sent} · failed {failed} · chats gone {gone}. Details: "
        "/status {id}",
        "live.cancelled": " · cancelled {count}",
        "live.stopped": "Delivery is still going on; see /status {id}.",
        "correct.done": "Story #{id} corrected. The messages already delivered to {count} chats "
        "will be edited.",
        "correct.done:1": "Story #{id} corrected. The message already delivered to 1 chat will "
        "be edited.",
        "correct.done:0": "Story #{id} corrected. No delivered message needs editing.",
        "correct.unchanged": "Story #{id} already reads like that; nothing changed.",
        "correct.retracted": "Story #{id} was withdrawn, so it cannot be corrected.",
        "retract.done": 'Story #{id} "{title}" withdrawn: it no longer shows in /latest and '
        "/read.",
        "retract.deleting": "{count} delivered copies will be deleted.",
        "retract.deleting:1": "1 delivered copy will be deleted.",
        "retract.deleting:0": "No delivered copy can be deleted.",
        "retract.cannot": "{count} copies cannot be deleted: {reasons}.",
        "retract.cannot:1": "1 copy cannot be deleted: {reasons}.",
        "retract.too_old": "{count} on {platform} sent more than {hours} hours ago ({platform}'s "
        "limit)",
        "retract.gone": "{count} in chats that blocked or removed the bot",
        "retract.cancelled": "{count} pushes not yet delivered were cancelled.",
        "retract.cancelled:1": "1 push not yet delivered was cancelled.",
        "retract.already": "Story #{id} was already withdrawn at {time}.",
        "status.header": "#{id} {title}",
        "status.meta": "{section} · {time}",
        "status.retracted": "Withdrawn {time}.",
        "status.retracted_reason": "Withdrawn {time}: {reason}",
        "status.line": "{platform}, {kind}: {total} — sent {sent} · queued {waiting} · failed "
        "{failed} · dropped {dropped}",
        "status.gone": " (chats gone {gone})",
        "status.possible_duplicates": " · possibly sent twice {count}",
        "status.kind.send": "pushes",
        "status.kind.edit": "edits",
        "status.kind.delete": "deletions",
        "status.none": "This story has not been sent to any chat.",
        "audit.header": "Latest admin actions:",
        "audit.none": "No admin action is recorded yet.",
        "audit.action.draft": "wrote a draft",
        "audit.action.breaking": "sent breaking news",
        "audit.action.cancel": "cancelled a draft",
        "audit.action.correct": "corrected",
        "audit.action.retract": "withdrew",
        "telegram.for_target": "For {target}:",
        "telegram.target_not_found": "I cannot find {target}. Check the channel's name, and "
        "make sure the bot has been added to it as an admin.",
        "telegram.target_is_private": "{target} is not a channel or a group.",
        "telegram.target_not_admin": "Only the admins of {target} can change its subscriptions.",
        "telegram.bot_cannot_post": "The bot cannot post in {target} yet. Make it an admin "
        "there with permission to post messages, then try again.",
        "telegram.check_failed": "Admin status cannot be checked right now. Please try again "
        "shortly.",
        "console.banner.chat": 'newsbot — console chat "{chat}" ({kind}), you are "{user}".',
        "console.banner.database": "Database: {path}",
        "console.banner.log_file": "Log: {path}",
        "console.banner.log_here": "Log: shown here (NEWSBOT_LOG_LEVEL=DEBUG)",
        "console.banner.log_failed": "Log: {path} cannot be written ({reason}), so the log is "
        "shown here",
        "console.banner.history_file": "Command history: {path}",
        "console.banner.history_failed": "Command history: {path} cannot be written "
        "({reason}), so history lasts until this chat ends",
        "console.banner.keys": "Type /help for the commands. Up/Down and Ctrl-R find earlier "
        "commands, Tab completes a command's name. Quit with Ctrl-D; Ctrl-C clears the line "
        "being typed, and on an empty line it quits too.",
        "console.kind.private": "private",
        "console.kind.group": "group",
        "console.kind.channel": "channel",
        "console.correction": 'Correction to story #{id} "{title}":',
        "console.correction_unnamed": "Correction to a message sent earlier:",
        "console.withdrawn": 'Story #{id} "{title}" was withdrawn by the newsroom.',
        "console.withdrawn_unnamed": "A message sent earlier was withdrawn by the newsroom.",
    },
}


def translate(language: str, key: str, **values: object) -> str:
    """The text for `key` in `language` (Indonesian for an unknown language), filled in.

    With an integer `count` among the values, a text written for that exact count (`key:0`,
    `key:1`) is used when the language has one: "no chat" and "1 chat" are not "0 chats".
    """
    catalogue = MESSAGES.get(language, MESSAGES["id"])
    count = values.get("count")
    template = catalogue.get(f"{key}:{count}") if isinstance(count, int) else None
    template = template or catalogue.get(key)
    if template is None:
        logger.error("no text for %r in %r", key, language)
        template = MESSAGES["id"].get(key, key)
    return template.format(**values)


def month_abbreviation(language: str, month: int) -> str:
    """The short month name, 1 = January."""
    return _MONTHS.get(language, _MONTHS["id"])[month - 1]
